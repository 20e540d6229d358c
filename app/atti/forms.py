"""Forms of the acts' screens (choices set by the routes, never in the declarations)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.atti.models import ACT_STATUSES
from app.core.query_forms import PlainText, QueryForm, page_field
from app.core.url_ids import MAX_ID


class ActFilters(QueryForm):
    ente = IntegerField("Ente", validators=[Optional(), NumberRange(1, MAX_ID, "un numero")])
    tipo = StringField("Tipo", validators=[Optional(), PlainText(), Length(max=40)])
    stato = SelectField("Stato", validators=[Optional()])
    campagna = IntegerField("Campagna", validators=[Optional(), NumberRange(1, MAX_ID, "un numero")])
    pagina = page_field()

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.stato.choices = [("", "Tutti")] + list(ACT_STATUSES.items())


class ListFilters(QueryForm):
    pagina = page_field()


class CampaignForm(FlaskForm):
    name = StringField("Nome della campagna", validators=[DataRequired("Indica un nome."), Length(max=200)])
    ente_id = SelectField("Ente", coerce=int, validators=[DataRequired("Scegli l'ente.")])
    act_type = SelectField("Tipo di atto", validators=[DataRequired("Scegli il tipo di atto.")])
    issue_date = DateField("Data degli atti", validators=[DataRequired("Indica la data degli atti.")])
    entrata_id = SelectField("Entrata", coerce=int, validators=[Optional()])
    carico_id = IntegerField("Carico (numero)", validators=[Optional(), NumberRange(1, MAX_ID)])
    states = SelectMultipleField("Stati della posizione", validators=[Optional()])
    min_amount = DecimalField("Importo dovuto da (€)", places=2, validators=[Optional(), NumberRange(0)])
    max_amount = DecimalField("Importo dovuto fino a (€)", places=2, validators=[Optional(), NumberRange(0)])
    notified_days = IntegerField(
        "Notificate da almeno (giorni)", validators=[Optional(), NumberRange(0, 36500)]
    )
    prescription_days = IntegerField(
        "Prescrizione entro (giorni)", validators=[Optional(), NumberRange(0, 36500)]
    )


class ActionForm(FlaskForm):
    """Nothing but the CSRF token (approve, stop, resume)."""


class TemplateForm(FlaskForm):
    source = TextAreaField(
        "Testo del modello (Typst)",
        validators=[DataRequired("Il testo è obbligatorio."), Length(max=100_000)],
    )
    valid_from = DateField("Valido dal", validators=[DataRequired("Indica da quando vale.")])
    entrata_id = SelectField("Entrata", coerce=int, validators=[Optional()])
    note = StringField("Nota della versione", validators=[Optional(), Length(max=500)])


class PreviewForm(FlaskForm):
    source = TextAreaField(validators=[DataRequired(), Length(max=100_000)])
    act_type = StringField(validators=[DataRequired(), Length(max=40)])
