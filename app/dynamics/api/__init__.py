"""`/api/v1` endpoints of the measures (routes.py)."""
