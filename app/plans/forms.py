from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.core.query_forms import PlainText, QueryForm
from app.plans.models import PLAN_STATUSES, REQUEST_STATUSES


class RequestFilters(QueryForm):
    stato = SelectField("Stato", validators=[Optional()])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.stato.choices = [("", "Tutti"), *REQUEST_STATUSES.items()]


class DecisionForm(FlaskForm):
    note = TextAreaField("Nota della decisione (obbligatoria per respingere)", validators=[Length(max=1000)])
    decision = StringField(validators=[Optional(), PlainText()])
    approve = SubmitField("Approva")
    refuse = SubmitField("Respingi")


class PlanFilters(QueryForm):
    stato = SelectField("Stato", validators=[Optional()])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.stato.choices = [("", "Tutti"), *PLAN_STATUSES.items()]


class DeskRequestForm(FlaskForm):
    """A rateazione asked at the desk for one position (the engine simulates it within the regime's band)."""

    installments = IntegerField("Numero di rate", validators=[DataRequired(), NumberRange(1, 240)])
    first_due = DateField("Scadenza della prima rata", validators=[DataRequired()])
    note = TextAreaField("Nota", validators=[Optional(), Length(max=1000)])
    submit = SubmitField("Registra la richiesta")


class ProrogaForm(FlaskForm):
    """The proroga of a plan (L. 160/2019 c. 797): the new number of installments for the residual."""

    installments = IntegerField(
        "Nuovo numero di rate del residuo", validators=[DataRequired(), NumberRange(1, 240)]
    )
    first_due = DateField("Scadenza della prima nuova rata (facoltativa)", validators=[Optional()])
    reason = TextAreaField(
        "Peggioramento comprovato della situazione del debitore", validators=[DataRequired(), Length(max=600)]
    )
    submit = SubmitField("Concedi la proroga")


class AnnulForm(FlaskForm):
    """The annulment of a plan before any payment."""

    reason = TextAreaField("Motivo dell'annullamento", validators=[DataRequired(), Length(max=600)])
    submit = SubmitField("Annulla il piano")
