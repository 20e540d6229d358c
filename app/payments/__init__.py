from app.payments import models  # noqa: F401
