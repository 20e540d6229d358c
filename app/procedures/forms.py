from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.core.query_forms import PlainText, QueryForm, page_field
from app.payments.forms import AmountText
from app.procedures.machine import KINDS
from app.procedures.models import INSOLVENCY_KINDS, THIRD_PARTY_KINDS


class ProcedureFilters(QueryForm):
    tipo = SelectField("Tipo", validators=[Optional()])
    stato = SelectField("Stato", validators=[Optional()])
    aperte = SelectField("Aperte o chiuse", validators=[Optional()])
    pagina = page_field()

    def __init__(self, *args: object, states: list[tuple[str, str]] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.tipo.choices = [("", "Tutti"), *KINDS.items()]
        self.stato.choices = [("", "Tutti"), *(states or [])]
        self.aperte.choices = [("", "Tutte"), ("1", "Solo aperte")]


class StartQuery(QueryForm):
    posizione = StringField("Posizione", validators=[DataRequired(), PlainText(), Length(max=12)])
    tipo = SelectField("Tipo", validators=[Optional()])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.tipo.choices = [("", "—"), *KINDS.items()]


class StartForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired()])
    on = DateField("Data dell'atto", validators=[DataRequired("Indica la data.")])
    # fermo: the vehicle from the PRA lookup (or typed in when the PRA is not configured)
    vehicle = SelectField("Veicolo (dal PRA)", validators=[Optional()], validate_choice=False)
    plate = StringField("Targa (inserimento manuale)", validators=[Optional(), PlainText(), Length(max=10)])
    vehicle_text = StringField(
        "Descrizione del veicolo", validators=[Optional(), PlainText(), Length(max=120)]
    )
    # ipoteca
    property_text = TextAreaField("Immobili (dati catastali)", validators=[Optional(), Length(max=1000)])
    # pignoramento
    third_party_kind = SelectField("Terzo pignorato", validators=[Optional()])
    third_party_name = StringField("Nome del terzo", validators=[Optional(), PlainText(), Length(max=200)])
    wage = StringField("Stipendio netto mensile", validators=[Optional(), AmountText()])
    amount = StringField("Importo (quota mensile per lo stipendio)", validators=[Optional(), AmountText()])
    # insinuazione
    proceeding_kind = SelectField("Procedura concorsuale", validators=[Optional()])
    court = StringField("Tribunale", validators=[Optional(), PlainText(), Length(max=200)])
    case_number = StringField("Numero della procedura", validators=[Optional(), PlainText(), Length(max=60)])
    opened_on = DateField("Aperta il", validators=[Optional()])
    filing_deadline = DateField("Termine per le domande", validators=[Optional()])
    submit = SubmitField("Avvia la procedura")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.third_party_kind.choices = list(THIRD_PARTY_KINDS.items())
        self.proceeding_kind.choices = list(INSOLVENCY_KINDS.items())


class OperationForm(FlaskForm):
    operation = HiddenField(validators=[DataRequired(), PlainText(), Length(max=30)])
    on = DateField("Data", validators=[DataRequired("Indica la data.")])
    amount = StringField("Importo", validators=[Optional(), AmountText()])
    outcome = SelectField("Esito", validators=[Optional()], validate_choice=False)
    note = TextAreaField("Nota", validators=[Optional(), Length(max=1000)])
    document = StringField("Protocollo del documento", validators=[Optional(), PlainText(), Length(max=40)])
    submit = SubmitField("Registra")
