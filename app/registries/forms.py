"""Forms of the registries' card section."""

from __future__ import annotations

from flask_wtf import FlaskForm


class CheckNowForm(FlaskForm):
    """ "Verifica ora": no field, the CSRF token only."""
