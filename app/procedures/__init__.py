"""Procedures (issue 14 item 4): fermo amministrativo, ipoteca, pignoramento presso terzi, insinuazione al
passivo, with their state machines (`machine.py`), steps, costs, acts and outcomes."""

from app.procedures import models  # noqa: F401
