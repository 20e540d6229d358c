from app.carichi import models  # noqa: F401
