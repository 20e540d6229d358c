from app.auth import models  # noqa: F401
