from app.jobs import models  # noqa: F401
