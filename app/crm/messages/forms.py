"""Forms of the messages screens. Choices are set by the routes (lists of tuples), never declared here."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.form_widgets import Select
from app.core.query_forms import PlainText, QueryForm, page_field


class MessageFilters(QueryForm):
    ente = SelectField("Ente", validators=[Optional()])
    canale = SelectField("Canale", validators=[Optional()])
    stato = SelectField("Stato", validators=[Optional()])
    finalita = SelectField("Finalità", validators=[Optional()])
    dal = DateField("Dal", validators=[Optional()])
    al = DateField("Al", validators=[Optional()])
    q = StringField("Codice fiscale o destinatario", validators=[Optional(), Length(max=250), PlainText()])
    pagina = page_field()


class SendForm(FlaskForm):
    """The card's "Invia messaggio": ente, channel (or the taxpayer's preference), purpose, position."""

    ente = SelectField("Ente", validators=[DataRequired("Scegli l'ente.")])
    canale = SelectField("Canale", validators=[Optional()])
    finalita = SelectField("Modello", validators=[DataRequired("Scegli il modello.")])
    posizione = SelectField("Posizione", validators=[Optional()], widget=Select())
    testo_risposta = TextAreaField("Testo della risposta (per «Risposta a una richiesta»)",
                                   validators=[Optional(), Length(max=4000)])


class ConsentForm(FlaskForm):
    canale = SelectField("Canale", validators=[DataRequired("Scegli il canale.")])
    consenso = SelectField("Consenso", validators=[DataRequired("Indica se il consenso è dato o negato.")])
    preferito = BooleanField("Canale preferito")
    fonte = SelectField("Fonte", validators=[DataRequired("Indica la fonte del consenso.")])


class TemplateForm(FlaskForm):
    oggetto = StringField("Oggetto", validators=[DataRequired("L'oggetto è obbligatorio."), Length(max=200)])
    testo = TextAreaField("Testo", validators=[DataRequired("Il testo è obbligatorio."), Length(max=10_000)])
    valido_dal = DateField("Valido dal",
                           validators=[DataRequired("Indica da quando vale la nuova versione.")])


class NewTemplateForm(TemplateForm):
    """A template for one entrata (the ente's template for every entrata is the seeded default)."""

    ente = SelectField("Ente", validators=[DataRequired()])
    entrata = SelectField("Entrata", validators=[Optional()])
    finalita = SelectField("Finalità", validators=[DataRequired()])
    canale = SelectField("Canale", validators=[DataRequired()])


class RuleForm(FlaskForm):
    ente = SelectField("Ente", validators=[DataRequired()])
    entrata = SelectField("Entrata", validators=[Optional()])
    finalita = SelectField("Finalità", validators=[DataRequired()])
    canali = StringField("Canali in ordine (es. app_io,email,sms)",
                         validators=[DataRequired("Indica almeno un canale."), Length(max=60)])
    giorni = IntegerField("Giorni prima della scadenza",
                          validators=[InputRequired("Indica i giorni."), NumberRange(0, 365, "da 0 a 365")])
