"""Forms of the conservazione screen (choices come in from the route)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField
from wtforms.validators import DataRequired, Optional


class PackageForm(FlaskForm):
    ente_id = SelectField("Ente", coerce=int, validators=[DataRequired("Scegli l'ente.")])
    types = SelectMultipleField(
        "Tipi di documento", validators=[Optional()], description="Nessuno scelto: tutti i tipi."
    )
    date_from = DateField("Ricevuti dal", validators=[Optional()])
    date_to = DateField("Ricevuti fino al", validators=[Optional()])


class DiscardForm(FlaskForm):
    """Only the CSRF token: the document is in the URL."""
