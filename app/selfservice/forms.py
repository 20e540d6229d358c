from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from app.core.query_forms import PlainText, QueryForm

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class PlanQuery(QueryForm):
    """The simulation (GET): positions, number of installments, first due date."""

    posizioni = SelectMultipleField(
        "Posizioni da rateizzare", coerce=int, validate_choice=False, validators=[Optional()]
    )
    rate = IntegerField(
        "Numero di rate", validators=[Optional(), NumberRange(1, 120, "un numero da 1 a 120")]
    )
    prima = DateField("Scadenza della prima rata", validators=[Optional()])


class PlanRequestForm(FlaskForm):
    posizioni = SelectMultipleField(
        "Posizioni da rateizzare",
        coerce=int,
        validate_choice=False,
        validators=[DataRequired("Scegli almeno una posizione.")],
    )
    rate = IntegerField(
        "Numero di rate",
        validators=[DataRequired("Indica il numero di rate."), NumberRange(1, 120, "Da 1 a 120 rate.")],
    )
    prima = DateField(
        "Scadenza della prima rata", validators=[DataRequired("Indica la data della prima rata.")]
    )
    note = TextAreaField(
        "Note per l'ufficio (facoltative)", validators=[Optional(), Length(max=1000), PlainText()]
    )


class UploadForm(FlaskForm):
    ente_id = SelectField("Ente destinatario", coerce=int, validators=[DataRequired("Scegli l'ente.")])
    subject = StringField("Oggetto", validators=[Optional(), Length(max=500), PlainText()])
    file = FileField("Documento (PDF o immagine)", validators=[FileRequired("Scegli il file da inviare.")])


class ContactsForm(FlaskForm):
    email = StringField(
        "E-mail",
        validators=[Optional(), Length(max=250), Regexp(EMAIL, message="Indirizzo e-mail non valido.")],
    )
    cellulare = StringField(
        "Cellulare",
        validators=[
            Optional(),
            Length(max=30),
            Regexp(r"^\+?[0-9 ]{6,20}$", message="Numero di telefono non valido."),
        ],
    )
    pec = StringField(
        "PEC", validators=[Optional(), Length(max=250), Regexp(EMAIL, message="Indirizzo PEC non valido.")]
    )


class ConsentsForm(FlaskForm):
    """The taxpayer's consents per channel and the one preferred channel (checkboxes and a radio, read in the
    view: the channels come from the messages module)."""
