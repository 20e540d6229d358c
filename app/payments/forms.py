"""Forms of the payments screens (choices come in from the routes; no queries here)."""

from __future__ import annotations

import secrets
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from app.carichi.forms import ColumnRow
from app.core.query_forms import PlainText, QueryForm, page_field
from app.core.url_ids import MAX_ID
from app.payments.parsing import parse_amount


def amount_cents(field: Any) -> int:
    """The cents of an amount field (validated by `AmountText`)."""
    return parse_amount(field.data or "")


# Choices are set by the routes (WTForms 3.3 deprecates tuple choices given to the field's constructor).
UPLOAD_FORMATS = [
    ("", "Rilevato dal contenuto"),
    ("fdr", "pagoPA FdR (XML)"),
    ("csv", "CSV o tracciato bancario/postale"),
]
LAYOUT_FORMATS = [("csv", "CSV"), ("fixed", "Lunghezza fissa")]
LAYOUT_SEPARATORS = [
    (";", "Punto e virgola"),
    (",", "Virgola"),
    ("|", "Barra"),
    ("tab", "Tabulazione"),
    ("auto", "Rilevato"),
]
LAYOUT_DECIMALS = [
    ("auto", "Virgola o punto decimale"),
    (",", "Virgola"),
    (".", "Punto"),
    ("cents", "Centesimi senza separatore"),
]


def layout_form(**kwargs: Any) -> LayoutForm:
    from app.payments.layouts import ENCODINGS
    from app.payments.parsing import DATE_FORMATS

    form = LayoutForm(**kwargs)
    form.format.choices = LAYOUT_FORMATS
    form.encoding.choices = list(ENCODINGS.items())
    form.separator.choices = LAYOUT_SEPARATORS
    form.decimal_separator.choices = LAYOUT_DECIMALS
    form.date_formats.choices = [(k, k) for k in DATE_FORMATS]
    return form


class AmountText:
    """An amount written the Italian way or with a dot: 1.234,56 / 1234.56 (positive)."""

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            return
        try:
            parse_amount(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc).capitalize() + ".") from None


class UploadForm(FlaskForm):
    file = FileField("File del flusso", validators=[FileRequired("Scegli il file da importare.")])
    format = SelectField("Formato", validators=[Optional()])
    layout = SelectField("Tracciato (file CSV o a lunghezza fissa)", validators=[Optional()])
    ente = SelectField(
        "Ente",
        validators=[Optional()],
        description="Per i file che non lo indicano; un flusso pagoPA indica l'ente ricevente.",
    )


class FdrFetchForm(FlaskForm):
    ente = SelectField("Ente", validators=[DataRequired("Scegli l'ente.")])
    dal = DateField(
        "Pubblicati dal",
        validators=[Optional()],
        description="Se vuoto, dall'inizio del mese precedente (pagoPA conserva i flussi 30 giorni).",
    )


class BankCreditForm(FlaskForm):
    value_date = DateField("Data valuta", validators=[DataRequired("Indica la data valuta.")])
    amount = StringField("Importo accreditato", validators=[DataRequired("Indica l'importo."), AmountText()])
    reference = StringField(
        "Riferimento (TRN / identificativo regolamento)",
        validators=[DataRequired("Indica il riferimento."), Length(max=100)],
    )
    causale = StringField("Causale", validators=[Optional(), Length(max=300)])


class DeskForm(FlaskForm):
    ente = SelectField("Ente", validators=[DataRequired()])
    reference = StringField(
        "Codice avviso o id posizione", validators=[DataRequired("Indica la posizione."), Length(max=60)]
    )
    amount = StringField("Importo incassato", validators=[DataRequired("Indica l'importo."), AmountText()])
    channel = SelectField("Mezzo di pagamento", validators=[DataRequired()])
    payer_name = StringField(
        "Versante (se diverso dal contribuente)", validators=[Optional(), Length(max=200)]
    )
    # Made when the form is shown; the payment keeps it, so the same form posted twice registers one payment.
    idempotency_key = HiddenField(
        default=lambda: secrets.token_urlsafe(24),
        validators=[
            DataRequired("Modulo scaduto: ricarica la pagina e inserisci di nuovo il pagamento."),
            Regexp(r"^[A-Za-z0-9_-]{16,64}$", message="Modulo non valido: ricarica la pagina."),
        ],
    )

    def fresh_key(self) -> None:
        """A new key, for a form shown again after its key registered a payment."""
        self.idempotency_key.data = secrets.token_urlsafe(24)


class NoteForm(FlaskForm):
    note = TextAreaField("Nota", validators=[Optional(), Length(max=500)])


class RequiredNoteForm(FlaskForm):
    note = TextAreaField("Nota", validators=[DataRequired("Scrivi una nota."), Length(max=500)])


class RefundForm(FlaskForm):
    reference = StringField(
        "Riferimento del bonifico di rimborso (CRO/TRN)",
        validators=[DataRequired("Indica il riferimento."), Length(max=100)],
    )
    note = StringField("Nota", validators=[Optional(), Length(max=500)])


class StornoForm(FlaskForm):
    reason = StringField(
        "Motivo dello storno", validators=[DataRequired("Indica il motivo."), Length(max=150)]
    )


YEAR = "un numero da 1900 a 2200"
MONTH = "un numero AAAAMM"


class ReportForm(QueryForm):
    """The rendicontazione's filters (page, detail and exports). Dates the user typed wrong are shown on the
    form; any other bad parameter is a 400 (see `valid_query`)."""

    dal = DateField("Pagati dal", validators=[Optional()])
    al = DateField("al", validators=[Optional()])
    ente = SelectField("Ente", validators=[Optional()])
    entrata = SelectField("Entrata", validators=[Optional()])
    canale = StringField("Canale", validators=[Optional(), Length(max=30), PlainText()])
    per = SelectMultipleField("Raggruppa per", validators=[Optional()])
    capitolo = StringField("Capitolo di bilancio", validators=[Optional(), Length(max=60), PlainText()])
    anno = IntegerField("Anno di riferimento", validators=[Optional(), NumberRange(1900, 2200, YEAR)])
    componente = SelectField("Componente", validators=[Optional()])
    mese = IntegerField("Mese di pagamento", validators=[Optional(), NumberRange(190001, 220012, MONTH)])
    pagina = page_field()


class FlowFilters(QueryForm):
    fonte = SelectField("Fonte", validators=[Optional()])
    pagina = page_field()


class FlowPaymentFilters(QueryForm):
    stato = SelectField("Stato", validators=[Optional()])
    pagina = page_field()


class AnomalyFilters(QueryForm):
    tipo = SelectField("Tipo", validators=[Optional()])
    stato = SelectField("Stato", validators=[Optional()])
    pagina = page_field()


class RefundFilters(QueryForm):
    stato = SelectField("Stato", validators=[Optional()])


class DeskPrefill(QueryForm):
    """`/pagamenti/sportello?posizione=<id>` (the card's "Incassa allo sportello"), or
    `?riferimento=&ente=`."""

    posizione = IntegerField(
        "Posizione", validators=[Optional(), NumberRange(1, MAX_ID, "un id di posizione")]
    )
    riferimento = StringField("Riferimento", validators=[Optional(), Length(max=60), PlainText()])
    ente = StringField("Ente", validators=[Optional(), Length(max=20), PlainText()])


class PageFilters(QueryForm):
    pagina = page_field()


class RiversamentoForm(FlaskForm):
    ente = SelectField("Ente", validators=[DataRequired()])
    dal = DateField("Dal (data contabile)", validators=[DataRequired("Indica la data iniziale.")])
    al = DateField("Al", validators=[DataRequired("Indica la data finale.")])


class LayoutForm(FlaskForm):
    """A payments tracciato as fields: a row per canonical field (ColumnRow), the format's options."""

    name = StringField(
        "Nome",
        validators=[
            DataRequired("Indica il nome."),
            Length(max=60),
            Regexp(r"^[a-z0-9][a-z0-9_.-]*$", message="Solo minuscole, cifre, punto e trattini."),
        ],
    )
    description = TextAreaField("Descrizione", validators=[Optional(), Length(max=2000)])
    format = SelectField("Formato")
    encoding = SelectField("Codifica")
    separator = SelectField("Separatore (CSV)")
    decimal_separator = SelectField("Importi")
    date_formats = SelectMultipleField(
        "Formati delle date", validators=[DataRequired("Scegli almeno un formato.")]
    )
    channel = StringField("Canale", default="bonifico", validators=[DataRequired(), Length(max=30)])
    columns = FieldList(FormField(ColumnRow), label="Colonne")
    record_length = IntegerField("Lunghezza del record", validators=[Optional(), NumberRange(1, 100_000)])
    record_type_start = IntegerField("Tipo record: inizio", validators=[Optional(), NumberRange(1, 100_000)])
    record_type_length = IntegerField("Tipo record: lunghezza", validators=[Optional(), NumberRange(1, 100)])
    record_type_value = StringField("Tipo record dei dettagli", validators=[Optional(), Length(max=20)])
    record_type_ignore = StringField(
        "Tipi record da ignorare", validators=[Optional(), Length(max=100)], description="Es. H, T."
    )
    ignore_unknown_columns = BooleanField("Ignora le colonne sconosciute (CSV)")
    active = BooleanField("Attivo", default=True)
    sample = FileField(
        "File di prova", description="Non viene importato: serve a vedere come il tracciato lo legge."
    )
