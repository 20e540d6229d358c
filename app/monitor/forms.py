"""The filters of the searches and visure (query-string forms: `app.core.query_forms`). Choices (enti,
entrate, carichi, act types, states, outcomes, channels) are set by the routes
from the user's enti and the tables."""

from __future__ import annotations

from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional

from app.core.query_forms import PlainText, QueryForm, page_field
from app.core.url_ids import MAX_ID

_ID = NumberRange(1, MAX_ID, "un numero da 1 a 2.147.483.647")


class PositionSearchForm(QueryForm):
    """Positions by taxpayer (codice fiscale, or name / birth date / address), by carico, entrata, state."""

    cf = StringField("Codice fiscale o partita IVA", validators=[Optional(), Length(max=16), PlainText()])
    nome = StringField(
        "Cognome e nome o ragione sociale", validators=[Optional(), Length(max=200), PlainText()]
    )
    nascita = DateField("Data di nascita", validators=[Optional()])
    indirizzo = StringField("Indirizzo (via, comune)", validators=[Optional(), Length(max=200), PlainText()])
    ente = SelectField("Ente", validators=[Optional()])
    entrata = SelectField("Entrata", validators=[Optional()])
    carico = IntegerField("Lista di carico", validators=[Optional(), _ID])
    stato = SelectField("Stato", validators=[Optional()])
    pagina = page_field()


class CaricoTotalsForm(QueryForm):
    ente = SelectField("Ente", validators=[Optional()])
    entrata = SelectField("Entrata", validators=[Optional()])
    carico = IntegerField("Lista di carico", validators=[Optional(), _ID])
    pagina = page_field()


class CommunicationsForm(QueryForm):
    """The visura aggregata of communications (acts) and its drill-down to the single act."""

    ente = SelectField("Ente", validators=[Optional()])
    entrata = SelectField("Entrata", validators=[Optional()])
    carico = IntegerField("Lista di carico", validators=[Optional(), _ID])
    tipo = SelectField("Tipo di atto", validators=[Optional()])
    stato = SelectField("Stato dell'atto", validators=[Optional()])
    esito = SelectField("Esito della notifica", validators=[Optional()])
    dal = DateField("Emessi dal", validators=[Optional()])
    al = DateField("al", validators=[Optional()])
    pagina = page_field()


class CollectionsForm(QueryForm):
    """The visura degli incassi: payments by period, entrata, channel."""

    ente = SelectField("Ente", validators=[Optional()])
    entrata = SelectField("Entrata", validators=[Optional()])
    canale = SelectField("Canale", validators=[Optional()])
    dal = DateField("Pagati dal", validators=[Optional()])
    al = DateField("al", validators=[Optional()])
    pagina = page_field()


class MonitorForm(QueryForm):
    al = DateField("Dovuto alla data", validators=[Optional()])
    sezione = StringField("Sezione", validators=[Optional(), Length(max=40), PlainText()])
