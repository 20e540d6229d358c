"""Forms of the help desk (choices come in from the routes as lists; no queries here)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional, Regexp

from app.core.query_forms import PlainText, QueryForm, page_field
from app.core.url_ids import MAX_ID
from app.helpdesk.models import GROUPS, STATUSES

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _id(label: str) -> IntegerField:
    return IntegerField(label, validators=[Optional(), NumberRange(1, MAX_ID, "un numero")])


class TicketFilters(QueryForm):
    stato = StringField("Stato", validators=[Optional(), AnyOf(list(STATUSES), "un valore")])
    urgenza = StringField(
        "Urgenza", validators=[Optional(), Length(max=20, message="al massimo 20"), PlainText()]
    )
    gruppo = StringField("Gruppo", validators=[Optional(), AnyOf(list(GROUPS), "un valore")])
    q = StringField("Cerca", validators=[Optional(), Length(max=100, message="al massimo 100"), PlainText()])
    aperte = StringField("Aperte", validators=[Optional(), AnyOf(["1"], "un valore")])
    mie = StringField("Mie", validators=[Optional(), AnyOf(["1"], "un valore")])
    page = page_field()


class NewTicketArgs(QueryForm):
    """Opened from the card (a taxpayer) or from a contact of the contact log."""

    contribuente = _id("Contribuente")
    posizione = _id("Posizione")
    contatto = _id("Contatto")


class TicketForm(FlaskForm):
    ente_id = SelectField("Ente", coerce=int, validators=[DataRequired("Scegli l'ente.")])
    channel = SelectField("Canale", validators=[DataRequired("Scegli il canale.")])
    urgency = SelectField("Classe di urgenza", validators=[DataRequired("Scegli la classe di urgenza.")])
    category = SelectField("Categoria", validators=[DataRequired("Scegli la categoria.")])
    subject = StringField("Oggetto", validators=[DataRequired("Scrivi l'oggetto."), Length(max=200)])
    description = TextAreaField(
        "Descrizione", validators=[DataRequired("Descrivi il problema."), Length(max=20_000)]
    )
    requester_kind = SelectField("Richiedente", validators=[DataRequired("Scegli il tipo di richiedente.")])
    requester_name = StringField(
        "Nome del richiedente", validators=[DataRequired("Scrivi il nome."), Length(max=200)]
    )
    requester_email = StringField(
        "E-mail del richiedente",
        validators=[Optional(), Regexp(EMAIL, message="e-mail non valida"), Length(max=200)],
    )
    assigned_group = SelectField("Gruppo", validators=[Optional()])
    taxpayer_id = HiddenField(validators=[Optional(), Length(max=10)])
    position_id = IntegerField("Posizione (id)", validators=[Optional(), NumberRange(1, MAX_ID)])
    document_id = IntegerField(
        "Documento dell'archivio (id)", validators=[Optional(), NumberRange(1, MAX_ID)]
    )
    contact_id = IntegerField("Contatto del registro (id)", validators=[Optional(), NumberRange(1, MAX_ID)])
    attachment = FileField("Allegato (facoltativo)")


class CommentForm(FlaskForm):
    body = TextAreaField("Commento", validators=[DataRequired("Scrivi il commento."), Length(max=20_000)])
    internal = BooleanField("Nota interna (non visibile al richiedente)")


class StatusForm(FlaskForm):
    to = SelectField("Nuovo stato", validators=[DataRequired("Scegli lo stato.")])
    note = StringField("Nota", validators=[Optional(), Length(max=1000)])
    solution = TextAreaField(
        "Soluzione adottata (obbligatoria per risolvere)", validators=[Optional(), Length(max=20_000)]
    )


class AssignForm(FlaskForm):
    group = SelectField("Gruppo", validators=[Optional()])
    user_id = SelectField("Operatore", coerce=int, validators=[Optional()])


class TransferForm(FlaskForm):
    reason = TextAreaField(
        "Motivo del trasferimento", validators=[DataRequired("Scrivi il motivo."), Length(max=20_000)]
    )


class ThirdPartyForm(FlaskForm):
    party = StringField(
        "Terzo coinvolto", validators=[DataRequired("Indica chi coinvolgi."), Length(max=200)]
    )
    email = StringField("E-mail del terzo", validators=[DataRequired("Indica l'e-mail."), Length(max=200)])
    request = TextAreaField(
        "Richiesta", validators=[DataRequired("Scrivi la richiesta."), Length(max=20_000)]
    )


class ThirdPartyAnswerForm(FlaskForm):
    party = StringField(
        "Chi ha risposto", validators=[DataRequired("Indica chi ha risposto."), Length(max=200)]
    )
    answer = TextAreaField(
        "Risposta del terzo", validators=[DataRequired("Scrivi la risposta."), Length(max=20_000)]
    )


class AnswerForm(FlaskForm):
    answer = TextAreaField(
        "Risposta del primo livello della Regione",
        validators=[DataRequired("Scrivi la risposta."), Length(max=20_000)],
    )


class AttachForm(FlaskForm):
    attachment = FileField("File", validators=[DataRequired("Scegli un file.")])


class ReportFilters(QueryForm):
    dal = DateField("Dal", validators=[Optional()])
    al = DateField("Al", validators=[Optional()])


class SelfServiceForm(FlaskForm):
    category = SelectField("Argomento", validators=[DataRequired("Scegli l'argomento.")])
    subject = StringField("Oggetto", validators=[DataRequired("Scrivi l'oggetto."), Length(max=200)])
    description = TextAreaField(
        "Descrivi la tua richiesta", validators=[DataRequired("Descrivi la richiesta."), Length(max=20_000)]
    )
    email = StringField(
        "E-mail per le risposte (facoltativa)",
        validators=[Optional(), Regexp(EMAIL, message="e-mail non valida"), Length(max=200)],
    )


class SelfServiceReplyForm(FlaskForm):
    body = TextAreaField(
        "Il tuo messaggio", validators=[DataRequired("Scrivi il messaggio."), Length(max=20_000)]
    )
