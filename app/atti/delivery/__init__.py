"""Delivery of issued acts (issue 13 points 4-5): print flow for the postal provider, PEC, SEND, and the
notification outcomes that set each act's notification date. The print batches and the outcome flow also
carry the postal messages of app/crm/messages (letters.py)."""
