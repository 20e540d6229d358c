"""Acts issued to taxpayers: types, templates, the issue service, campaigns (issue 13 points 1-3)."""

from app.atti import models  # noqa: F401
from app.atti.delivery import models as delivery_models  # noqa: F401
