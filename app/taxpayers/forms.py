from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.core.query_forms import PAGE_MAX, PlainText, QueryForm
from app.core.timeline import TIMELINE_GROUPS
from app.core.url_ids import MAX_ID
from app.taxpayers.models import DOMICILIO_SOURCES


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(
        "Codice fiscale, partita IVA, nome o riferimento", validators=[Length(max=120), PlainText()]
    )


class AsOfForm(FlaskForm):
    class Meta:
        csrf = False

    al = DateField("Mostra la scheda alla data", validators=[Optional()], render_kw={"max": "9999-12-31"})


class CardForm(QueryForm):
    """The card's query string: the day to show it at, the timeline group."""

    al = DateField("Mostra la scheda alla data", validators=[Optional()], render_kw={"max": "9999-12-31"})
    gruppo = SelectField("Tipo di eventi", validators=[Optional()], validate_choice=False)
    tutte = BooleanField("Tutte le posizioni")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gruppo.choices = [("", "Tutti"), *TIMELINE_GROUPS.items()]

    def validate_gruppo(self, field: Any) -> None:
        if field.data and field.data not in TIMELINE_GROUPS:
            raise ValidationError("valore non ammesso")


class TimelineForm(CardForm):
    da = IntegerField("Dal numero", default=0, validators=[Optional(), NumberRange(0, PAGE_MAX)])


class DomicilioForm(FlaskForm):
    indirizzo = StringField(
        "Indirizzo PEC", validators=[DataRequired("Inserire l'indirizzo PEC."), Length(max=250), PlainText()]
    )
    fonte = SelectField("Fonte")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fonte.choices = [(code, label) for code, label in DOMICILIO_SOURCES.items()]


# a link seen from the card it is added on: (kind, does the card's taxpayer stand on the `from` side)
RELATION_CHOICES: dict[str, tuple[str, bool, str]] = {
    "erede": ("erede", True, "Erede (di questo contribuente deceduto)"),
    "erede_di": ("erede", False, "Questo contribuente è erede di"),
    "rappresentante_legale": ("rappresentante_legale", True, "Rappresentante legale (di questa società)"),
    "rappresentante_legale_di": (
        "rappresentante_legale",
        False,
        "Questo contribuente è rappresentante legale di",
    ),
}


class RelationForm(FlaskForm):
    tipo = SelectField("Collegamento")
    codice_fiscale = StringField(
        "Codice fiscale dell'altro contribuente",
        validators=[DataRequired("Inserire il codice fiscale."), Length(max=16), PlainText()],
    )
    dal = DateField("In vigore dal", validators=[DataRequired("Inserire la data di inizio.")])
    fonte = StringField(
        "Fonte (atto, dichiarazione, visura)",
        validators=[DataRequired("Inserire la fonte."), Length(max=200), PlainText()],
    )
    nota = StringField("Nota", validators=[Optional(), Length(max=500), PlainText()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tipo.choices = [(code, label) for code, (_, _, label) in RELATION_CHOICES.items()]


class EndRelationForm(FlaskForm):
    collegamento = IntegerField("Collegamento", validators=[DataRequired(), NumberRange(1, MAX_ID)])
    al = DateField("Chiuso al", validators=[DataRequired("Inserire la data di fine.")])
    motivo = StringField("Motivo", validators=[Optional(), Length(max=200), PlainText()])
