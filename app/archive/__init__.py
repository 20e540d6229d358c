from app.archive import models  # noqa: F401
