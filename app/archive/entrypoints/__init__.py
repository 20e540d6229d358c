"""The mailbox's and retention's entry points: the polling job (tasks.py), the commands posta, conserva and
scarta (cli.py) and the conservazione screen (routes.py); the services are app/archive/mailbox.py and
app/archive/retention.py."""
