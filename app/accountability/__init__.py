"""Read-only viewers of the audit trail (every event: who, when, what) and of the card access log (who read
which taxpayer's data, when: the GDPR accountability question a Regione asks), with filters and exports.
Within the reader's enti; an administrator also sees the events that belong to no ente (parameters, users)."""
