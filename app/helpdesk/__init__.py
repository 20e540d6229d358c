"""The help desk (issue 16, R-D1..R-D7): tickets, SLA clocks on the Italian business calendar, transfer to the
Regione's first-level desk, e-mail intake and replies, reports."""
