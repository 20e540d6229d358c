"""Analisi (issue 15 points 3-4): dashboards per ente over a materialised summary of the ledger, and the
ad-hoc query builder over curated datasets (saved, shared with a role, exported, scheduled by e-mail or into
the archive)."""
