"""Forms of the import screens (choices come in from the routes; no queries here)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
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
    description = TextAreaField(
        "Descrizione",
        validators=[Length(max=4000)],
        description="Per i tracciati a lunghezza fissa, riportare le posizioni dei campi.",
    )
    flow = SelectField("Flusso", validators=[DataRequired()])
    format = SelectField("Formato", validators=[DataRequired()])
    encoding = SelectField("Codifica", validators=[DataRequired()])
    separator = SelectField("Separatore (CSV)", validators=[DataRequired()])
    decimal_separator = SelectField("Importi", validators=[DataRequired()])
    date_formats = SelectMultipleField(
        "Formati delle date", validators=[DataRequired("Scegli almeno un formato.")]
    )
    columns = TextAreaField(
        "Colonne (JSON)",
        validators=[DataRequired("Indica le colonne.")],
        description='CSV, XLSX, XML: {"campo canonico": "nome nel file"}. Lunghezza fissa: '
        '[{"field": ..., "start": 1, "length": 16}, ...].',
    )
    options = TextAreaField(
        "Opzioni (JSON)",
        validators=[Optional()],
        description="record_length e record_type (lunghezza fissa), sheet (XLSX), row_tag e root_tag (XML).",
    )
    default_entrata = StringField("Entrata predefinita (codice)", validators=[Optional(), Length(max=40)])
    max_error_rate = DecimalField(
        "Tasso massimo di righe scartate (%)",
        places=2,
        validators=[InputRequired("Indica il tasso massimo."), NumberRange(0, 100)],
    )
    ignore_unknown_columns = BooleanField("Ignora le colonne sconosciute")
    active = BooleanField("Attivo", default=True)


class ActionForm(FlaskForm):
    """A button that posts (cancel, run again): CSRF only."""
