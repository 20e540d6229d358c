"""Forms of the delivery screens (choices set by the views)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.core.query_forms import QueryForm
from app.core.url_ids import MAX_ID


class EnteQuery(QueryForm):
    ente = IntegerField(
        "Ente", validators=[Optional(), NumberRange(1, MAX_ID, "un numero da 1 a 2147483647")]
    )


class BatchForm(FlaskForm):
    ente_id = HiddenField(validators=[DataRequired()])


class OutcomeUploadForm(FlaskForm):
    ente_id = SelectField("Ente", coerce=int, validators=[DataRequired("Scegli l'ente.")])
    file = FileField("File degli esiti (CSV o XML)", validators=[FileRequired("Scegli il file degli esiti.")])


class ManualOutcomeForm(FlaskForm):
    outcome = SelectField("Esito", validators=[DataRequired("Scegli l'esito.")])
    event_date = DateField("Data dell'esito", validators=[DataRequired("Indica la data dell'esito.")])
    cad_date = DateField("Data di invio della CAD (compiuta giacenza)", validators=[Optional()])
    document_id = SelectField(
        "Ricevuta di ritorno scansionata (archivio)", coerce=int, validators=[Optional()]
    )


class CloseForm(FlaskForm):
    note = StringField("Nota", validators=[DataRequired("Scrivi cosa è stato fatto."), Length(max=300)])


class ActionForm(FlaskForm):
    """Only the CSRF token (send by PEC / SEND)."""
