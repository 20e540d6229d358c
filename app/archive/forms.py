"""Forms of the archive screens (choices come in from the routes; no queries here)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from app.archive.models import DOCUMENT_STATUSES
from app.core.query_forms import QueryForm, page_field
from app.core.url_ids import MAX_ID


class UploadForm(FlaskForm):
    ente_id = SelectField("Ente", coerce=int, validators=[DataRequired("Scegli l'ente.")])
    channel = SelectField("Canale", validators=[DataRequired("Scegli il canale.")])
    doc_type = SelectField("Tipo di documento", validators=[DataRequired("Scegli il tipo.")])
    received_date = DateField(
        "Data di ricezione", validators=[Optional()], description="Lascia vuoto per oggi."
    )
    sender = StringField("Mittente", validators=[Optional(), Length(max=250)])
    subject = StringField("Oggetto", validators=[Optional(), Length(max=500)])
    taxpayer_id = HiddenField(validators=[Optional(), Length(max=10)])  # filed from the taxpayer's card
    files = MultipleFileField("File", validators=[InputRequired("Scegli almeno un file.")])


class LinkDecisionForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired()])


class DeleteForm(FlaskForm):
    """Nothing but the CSRF token."""


class DocumentFilters(QueryForm):
    """The archive list's filters, read from the query string (a bad one is a 400, never a 500)."""

    stato = StringField("Stato", validators=[Optional(), AnyOf(list(DOCUMENT_STATUSES), "un valore")])
    ente = IntegerField("Ente", validators=[Optional(), NumberRange(1, MAX_ID, "un numero")])
    lista = StringField("Lista", validators=[Optional(), AnyOf(["da_collegare", "da_rivedere"], "un valore")])
    pagina = page_field()
