"""The contact log (R-C4): every interaction with a taxpayer on any channel, the topic taxonomy of each ente,
the appointment calendar of each sportello and the statistics of the contacts."""

from app.crm.contacts import models  # noqa: F401  (registers the tables and their scoping rules)
