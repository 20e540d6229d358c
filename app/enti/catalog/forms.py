"""Forms of the enti and entrate screens (the select choices come from the parameter tables)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional


class EnteForm(FlaskForm):
    code = StringField("Codice", validators=[Optional(), Length(max=20)])
    name = StringField(
        "Denominazione", validators=[DataRequired("Indica la denominazione."), Length(max=200)]
    )
    codice_fiscale = StringField("Codice fiscale", validators=[DataRequired("Indica il codice fiscale.")])
    segregation_code = StringField(
        "Codice di segregazione pagoPA", validators=[DataRequired("Indica il codice.")]
    )
    postal_account = StringField("Conto corrente postale", validators=[Optional(), Length(max=12)])
    submit = SubmitField("Salva")


class EntrataForm(FlaskForm):
    code = StringField("Codice", validators=[Optional(), Length(max=40)])
    name = StringField(
        "Denominazione", validators=[DataRequired("Indica la denominazione."), Length(max=200)]
    )
    capitolo = StringField("Capitolo di bilancio", validators=[Optional(), Length(max=40)])
    interest_rate_table = SelectField("Tabella dei tassi di interesse")
    prescription_regime = SelectField("Regime di prescrizione")
    installment_regime = SelectField("Regime di rateazione")
    submit = SubmitField("Salva")
