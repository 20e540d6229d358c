from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from app.core.query_forms import PlainText, QueryForm
from app.plans.models import REQUEST_STATUSES


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
