"""Escalation (issue 14 items 3 and 5): rules as data per ente + entrata, the daily set-based proposals an
operator approves as act campaigns, the blockers other slices extend, and the prescription radar."""
