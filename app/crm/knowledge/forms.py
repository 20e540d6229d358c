"""Forms of the knowledge base (choices come in from the routes as lists; no queries here)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional, Regexp

from app.core.query_forms import PlainText, QueryForm, page_field
from app.core.url_ids import MAX_ID
from app.crm.knowledge.models import KINDS

HOURS = r"^\s*\d{2}:\d{2}-\d{2}:\d{2}(\s*,\s*\d{2}:\d{2}-\d{2}:\d{2})*\s*$"


class ArticleFilters(QueryForm):
    q = StringField("Cerca", validators=[Optional(), Length(max=200, message="al massimo 200"), PlainText()])
    tipo = StringField("Tipo", validators=[Optional(), AnyOf(list(KINDS), "un valore")])
    tag = StringField(
        "Etichetta", validators=[Optional(), Length(max=50, message="al massimo 50"), PlainText()]
    )
    scaduti = StringField("Scaduti", validators=[Optional(), AnyOf(["1"], "un valore")])
    page = page_field()


class NewArticleArgs(QueryForm):
    segnalazione = IntegerField(
        "Segnalazione", validators=[Optional(), NumberRange(1, MAX_ID, "un numero")]
    )
    tipo = StringField("Tipo", validators=[Optional(), AnyOf(list(KINDS), "un valore")])


def _hours(label: str) -> StringField:
    return StringField(
        label,
        validators=[
            Optional(),
            Length(max=100),
            Regexp(HOURS, message="scrivere ad esempio 09:00-13:00, 14:00-16:30"),
        ],
    )


class ArticleForm(FlaskForm):
    kind = SelectField("Tipo", validators=[DataRequired("Scegli il tipo.")])
    ente_id = SelectField("Ente", coerce=int, validators=[Optional()])
    title = StringField("Titolo", validators=[DataRequired("Scrivi il titolo."), Length(max=200)])
    body = TextAreaField("Testo", validators=[DataRequired("Scrivi il testo."), Length(max=50_000)])
    tags = StringField("Etichette (separate da virgola)", validators=[Optional(), Length(max=500)])
    entrate = StringField(
        "Entrate collegate (codici separati da virgola, es. TASSA_AUTO)",
        validators=[Optional(), Length(max=500)],
    )
    valid_from = DateField("Valido dal", validators=[DataRequired("Indica la data di inizio validità.")])
    valid_to = DateField("Valido fino al", validators=[Optional()])
    office_name = StringField("Sportello (per gli orari)", validators=[Optional(), Length(max=200)])
    hours_0 = _hours("Lunedì")
    hours_1 = _hours("Martedì")
    hours_2 = _hours("Mercoledì")
    hours_3 = _hours("Giovedì")
    hours_4 = _hours("Venerdì")
    hours_5 = _hours("Sabato")
    hours_6 = _hours("Domenica")
    source_ticket_id = HiddenField(validators=[Optional(), Length(max=10)])
