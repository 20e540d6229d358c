"""Forms of the import screens (choices come in from the routes; no queries here)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp


class UploadForm(FlaskForm):
    ente_id = SelectField("Ente", coerce=int, validators=[DataRequired("Scegli l'ente.")])
    entrata_id = SelectField(
        "Entrata",
        coerce=int,
        validators=[Optional()],
        description="Obbligatoria per le liste di carico; non serve per le variazioni anagrafiche.",
    )
    layout_id = SelectField("Tracciato", coerce=int, validators=[DataRequired("Scegli il tracciato.")])
    file = FileField("File da importare", validators=[FileRequired("Scegli il file da importare.")])


class ConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


class ColumnRow(Form):
    """One canonical field of the flow and where the file has it (a header/element name, or positions)."""

    field = HiddenField()
    source = StringField("Nome nel file", validators=[Optional(), Length(max=100)])
    start = IntegerField("Inizio", validators=[Optional(), NumberRange(1, 100_000)])
    length = IntegerField("Lunghezza", validators=[Optional(), NumberRange(1, 10_000)])


class LayoutForm(FlaskForm):
    name = StringField(
        "Nome",
        validators=[
            DataRequired("Indica il nome."),
            Length(max=60),
            Regexp(
                r"^[a-z0-9][a-z0-9_.-]*$",
                message="Solo lettere minuscole, cifre, punto, trattino e trattino basso.",
            ),
        ],
    )
    description = TextAreaField("Descrizione", validators=[Length(max=4000)])
    flow = SelectField("Flusso", validators=[DataRequired()])
    format = SelectField("Formato", validators=[DataRequired()])
    encoding = SelectField("Codifica", validators=[DataRequired()])
    separator = SelectField("Separatore (CSV)", validators=[DataRequired()])
    decimal_separator = SelectField("Importi", validators=[DataRequired()])
    date_formats = SelectMultipleField(
        "Formati delle date", validators=[DataRequired("Scegli almeno un formato.")]
    )
    columns = FieldList(FormField(ColumnRow), label="Colonne")
    record_length = IntegerField(
        "Lunghezza del record", validators=[Optional(), NumberRange(1, 100_000)],
        description="Caratteri di ogni riga del file (lunghezza fissa).",
    )
    record_type_start = IntegerField("Tipo record: inizio", validators=[Optional(), NumberRange(1, 100_000)])
    record_type_length = IntegerField("Tipo record: lunghezza", validators=[Optional(), NumberRange(1, 100)])
    record_type_value = StringField(
        "Tipo record dei dettagli", validators=[Optional(), Length(max=20)], description="Es. D."
    )
    record_type_ignore = StringField(
        "Tipi record da ignorare", validators=[Optional(), Length(max=100)],
        description="Separati da virgola, es. H, T (testata e coda).",
    )
    sheet = StringField(
        "Foglio", validators=[Optional(), Length(max=100)], description="Vuoto: il primo foglio."
    )
    row_tag = StringField(
        "Elemento di una riga", validators=[Optional(), Length(max=100)], description="Es. posizione."
    )
    root_tag = StringField(
        "Elemento radice", validators=[Optional(), Length(max=100)], description="Es. lista_di_carico."
    )
    default_entrata = StringField("Entrata predefinita (codice)", validators=[Optional(), Length(max=40)])
    max_error_rate = DecimalField(
        "Tasso massimo di righe scartate (%)",
        places=2,
        validators=[InputRequired("Indica il tasso massimo."), NumberRange(0, 100)],
    )
    ignore_unknown_columns = BooleanField("Ignora le colonne sconosciute")
    active = BooleanField("Attivo", default=True)
    sample = FileField(
        "File di prova", description="Non viene importato: serve a vedere come il tracciato lo legge."
    )
    preview_ente = SelectField("Ente dell'anteprima", coerce=int, validators=[Optional()])


class ActionForm(FlaskForm):
    """A button that posts (cancel, run again): CSRF only."""
