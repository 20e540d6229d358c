"""User administration on screen (R-A19): staff accounts, their role and enti, disabling, resetting the second
factor. Self-service accounts are created by the identity broker's login, not here."""
