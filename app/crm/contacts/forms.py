"""Forms of the contact log: registering a contact (card), booking a slot, the statistics' filters.
Choices come from the route (no queries here)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.form_widgets import Select
from app.core.query_forms import PlainText, QueryForm
from app.core.url_ids import MAX_ID


class ContactForm(FlaskForm):
    ente = SelectField("Ente", id="contatto-ente", coerce=int, validators=[InputRequired("Scegli l'ente.")])
    canale = SelectField(
        "Canale", id="contatto-canale", validators=[DataRequired("Scegli il canale.")], default="telefono"
    )
    direzione = SelectField(
        "Direzione", id="contatto-direzione", validators=[DataRequired("Scegli la direzione.")], default="in"
    )
    argomento = SelectField(
        "Argomento", id="contatto-argomento", coerce=int, validators=[InputRequired("Scegli l'argomento.")]
    )
    esito = SelectField(
        "Esito", id="contatto-esito", validators=[DataRequired("Scegli l'esito.")], default="risolto"
    )
    durata = IntegerField(
        "Durata (minuti)",
        id="contatto-durata",
        default=0,
        validators=[Optional(), NumberRange(0, 1440, "La durata è un numero di minuti da 0 a 1440.")],
    )
    posizioni = SelectMultipleField(
        "Posizioni",
        id="contatto-posizioni",
        coerce=int,
        validators=[Optional()],
        widget=Select(multiple=True),
    )
    documenti = SelectMultipleField(
        "Documenti dell'archivio",
        id="contatto-documenti",
        coerce=int,
        validators=[Optional()],
        widget=Select(multiple=True),
    )
    note = TextAreaField(
        "Note",
        id="contatto-note",
        validators=[Optional(), Length(max=4000, message="Al massimo 4000 caratteri.")],
    )


class BookingForm(FlaskForm):
    sportello = HiddenField("Sportello", validators=[DataRequired()])
    inizio = HiddenField("Orario", validators=[DataRequired()])
    note = TextAreaField(
        "Note", validators=[Optional(), Length(max=4000, message="Al massimo 4000 caratteri.")]
    )


class CancelForm(FlaskForm):
    pass


class SlotQuery(QueryForm):
    sportello = IntegerField("Sportello", validators=[Optional(), NumberRange(1, MAX_ID, "un numero da 1")])
    giorno = DateField("Giorno", validators=[Optional()], render_kw={"max": "9999-12-31"})


class StatsQuery(QueryForm):
    dimensione = SelectField("Raggruppa per", validators=[Optional()], default="canale")
    ente = IntegerField("Ente", validators=[Optional(), NumberRange(1, MAX_ID, "un numero da 1")])
    dal = DateField("Dal", validators=[Optional()], render_kw={"max": "9999-12-31"})
    al = DateField("Al", validators=[Optional()], render_kw={"max": "9999-12-31"})
    canale = SelectField("Canale", validators=[Optional()])
    argomento = SelectField("Argomento", validators=[Optional(), PlainText()])
    esito = SelectField("Esito", validators=[Optional()])
    operatore = IntegerField("Operatore", validators=[Optional(), NumberRange(1, MAX_ID, "un numero da 1")])
