"""Installment plans: the taxpayers' and the desk's requests, the back office's decision, the stored plans
with their installments, payments per installment and the daily decadenza check."""

from app.core.timeline import register_event_group
from app.plans import models  # noqa: F401

register_event_group("plan.", "posizioni")  # the plans' events on the card's timeline, with the positions'
