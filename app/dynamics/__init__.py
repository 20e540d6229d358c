"""Dynamics of stored positions (issue 14 points 1-2): amounts fixed by acts, sgravio, sospensione and its
revoca, discarico per inesigibilità, annullamento. Each a service through the engine's state machine and the
ledger (`services.py`), a screen on the position page (`routes.py`), an `/api/v1` endpoint (`api.py`) and an
event on the card's timeline."""

from app.dynamics import models as _models  # noqa: F401
