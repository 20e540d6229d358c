"""Batch monitor (issue 15 point 5): every periodic job of the registry (app/core/periodic.py) with its
next and last run, each run recorded (start, end, outcome, duration, error), runs now or at a later time,
e-mail alerts on failure or overrun."""
