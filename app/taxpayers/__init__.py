from app.taxpayers import models  # noqa: F401
