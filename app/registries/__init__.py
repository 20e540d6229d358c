"""Public registries (ANPR, INAD, PRA) through PDND: pre-notification checks of the taxpayer's data."""
