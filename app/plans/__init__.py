"""Installment plans: today the taxpayers' requests (self-service) and the back office's decision on them."""

from app.plans import models  # noqa: F401
