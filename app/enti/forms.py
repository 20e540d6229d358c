from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.enti.citations import citation_error


class ApiTokenForm(FlaskForm):
    name = StringField(
        "Nome del sistema client", validators=[DataRequired("Indica il nome."), Length(max=120)]
    )
    ente_id = SelectField("Ente", coerce=int, validators=[DataRequired("Scegli l'ente.")])
    scopes = SelectMultipleField(
        "Ambiti",
        validators=[DataRequired("Scegli almeno un ambito.")],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )
    submit = SubmitField("Emetti token")


class RevokeForm(FlaskForm):
    submit = SubmitField("Revoca")


class ItalianDateField(DateField):
    """A date input (type="date", ISO value) whose parse error is Italian and names the field."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(f"{self.label.text}: data non valida, usa il formato gg/mm/aaaa.") from None


_SOURCE_HELP = (
    "L'atto normativo che fissa il valore, es. «D.M. 13 dicembre 2021 (G.U. n. 297 del 15/12/2021)» o "
    "«art. 2946 c.c.». Niente indirizzi web, file o note."
)


class _PeriodForm(FlaskForm):
    valid_from = ItalianDateField(
        "Valido dal", validators=[InputRequired("Valido dal: indica la data di inizio del nuovo periodo.")]
    )
    valid_to = ItalianDateField(
        "Valido fino al",
        validators=[Optional()],
        description="Vuoto se il periodo è aperto (vale fino al prossimo).",
    )
    source = StringField(
        "Fonte (atto normativo)",
        validators=[InputRequired("Fonte: indica l'atto normativo."),
                    Length(max=500, message="Fonte: al massimo 500 caratteri.")],
        description=_SOURCE_HELP,
    )

    def validate_source(self, field: StringField) -> None:
        error = citation_error(field.data)
        if error:
            raise ValidationError(f"Fonte: {error[0].lower()}{error[1:]}")


class RatePeriodForm(_PeriodForm):
    rate = StringField(
        "Tasso annuo (%)",
        validators=[InputRequired("Tasso annuo: indica il tasso, es. 1,25.")],
        description="In percentuale: 1,25 significa 1,25% annuo.",
    )
    submit = SubmitField("Registra il nuovo periodo")


class ParameterPeriodForm(_PeriodForm):
    value = TextAreaField(
        "Valore",
        validators=[InputRequired("Valore: indica il valore del parametro.")],
        description="Le stesse voci del periodo in vigore (riportate qui), con i nuovi valori.",
    )
    submit = SubmitField("Registra il nuovo periodo")


class VerifyForm(FlaskForm):
    against = StringField(
        "Pubblicazione consultata",
        validators=[InputRequired("Pubblicazione consultata: indica dove hai verificato il valore."),
                    Length(max=300, message="Pubblicazione consultata: al massimo 300 caratteri.")],
        description="Es. «G.U. n. 297 del 15/12/2021» (numero e data della Gazzetta Ufficiale) o la "
        "pubblicazione ufficiale dell'atto.",
    )
    submit = SubmitField("Registra la verifica")


class ProposalDecisionForm(FlaskForm):
    """Approve or reject a proposed period (the reason is required to reject; the service checks it)."""

    proposal_id = IntegerField(validators=[InputRequired()])
    reason = StringField("Motivo del rifiuto", validators=[Optional(), Length(max=1000)])
