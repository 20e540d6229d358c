"""Public legal pages: the privacy notice (GDPR art. 13) and the accessibility statement (AgID model)."""
