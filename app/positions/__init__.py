from app.positions import models  # noqa: F401
