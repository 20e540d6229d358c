"""Outgoing messages to taxpayers (issue 12 point 2): one channel interface (e-mail, PEC, SMS, App IO,
posta: a protocolled letter sent with the print batches of app/atti/delivery),
templates per ente/entrata/purpose/channel, delivery status on the timeline, consents and preferences, rules
that send reminders before due dates.

Other slices call `app.crm.messages.services.queue_message` (channel None = the taxpayer's preference)."""

from app.crm.messages import models  # noqa: F401  (registers the tables and their scope)
