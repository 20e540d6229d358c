"""The Regione's window on its debt positions (issue 15 points 1-2): searches of positions by taxpayer, carico
and entrata with the carico's totals, the visura aggregata of communications, the visura degli incassi, and
the position monitor (a position's whole life on one page, exportable as a PDF dossier). Reads only: every
query goes through the per-ente scoping helper (`app.core.access`)."""
