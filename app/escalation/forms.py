from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.core.query_forms import PlainText, QueryForm
from app.core.url_ids import MAX_ID
from app.escalation.models import ANCHORS


class ReviewFilters(QueryForm):
    ente = IntegerField("Ente", validators=[Optional(), NumberRange(1, MAX_ID, "un numero")])


class RadarFilters(QueryForm):
    ente = IntegerField("Ente", validators=[Optional(), NumberRange(1, MAX_ID, "un numero")])
    giorni = IntegerField("Entro giorni", validators=[Optional(), NumberRange(1, 3650, "da 1 a 3650")])


class ApproveForm(FlaskForm):
    issue_date = DateField("Data di emissione", validators=[DataRequired()])
    third_party = StringField(
        "Banca (terzo pignorato)", validators=[Optional(), Length(max=200), PlainText()]
    )
    approve = SubmitField("Approva come campagna")


class ExcludeForm(FlaskForm):
    proposal_id = HiddenField(validators=[DataRequired()])
    note = StringField("Motivo", validators=[Optional(), Length(max=300), PlainText()])
    exclude = SubmitField("Escludi")


class ProposeForm(FlaskForm):
    position_id = HiddenField(validators=[DataRequired()])
    step_id = HiddenField(validators=[DataRequired()])
    propose = SubmitField("Proponi")


class NewRuleForm(FlaskForm):
    entrata = SelectField("Entrata", coerce=int, validators=[DataRequired()])
    create = SubmitField("Crea la regola con i passi predefiniti")


class StepForm(FlaskForm):
    step_id = HiddenField(validators=[DataRequired()])
    days = IntegerField("Giorni", validators=[DataRequired(), NumberRange(0, 3650)])
    anchor = SelectField("Dalla", validators=[DataRequired()])
    min_euro = DecimalField("Saldo minimo (euro)", places=2, validators=[Optional(), NumberRange(0)])
    max_euro = DecimalField("Saldo massimo (euro)", places=2, validators=[Optional(), NumberRange(0)])
    active = BooleanField("Attivo")
    save = SubmitField("Salva")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.anchor.choices = list(ANCHORS.items())
