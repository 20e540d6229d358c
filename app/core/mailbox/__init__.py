"""The one IMAP mailbox of the slices: `client` (a named mailbox's settings, the connection, the folder's
commands) and `tasks` (the polling loop with its commits)."""
