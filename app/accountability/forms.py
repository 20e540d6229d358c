from __future__ import annotations

from wtforms import DateField, IntegerField, StringField
from wtforms.validators import AnyOf, Length, NumberRange, Optional

from app.core.audit import EVENT_KINDS
from app.core.query_forms import PlainText, QueryForm, page_field
from app.core.url_ids import MAX_ID


class _TrailFilters(QueryForm):
    utente = StringField("Utente", validators=[Optional(), PlainText(), Length(max=80)])
    cf = StringField("Codice fiscale", validators=[Optional(), PlainText(), Length(max=16)])
    dal = DateField("Dal", validators=[Optional()])
    al = DateField("Al", validators=[Optional()])
    pagina = page_field()


class EventFilters(_TrailFilters):
    tipo = StringField(
        "Tipo di evento", validators=[Optional(), AnyOf(sorted(EVENT_KINDS), "un tipo di evento")]
    )
    ente = IntegerField("Ente", validators=[Optional(), NumberRange(1, MAX_ID, "un numero")])


class AccessFilters(_TrailFilters):
    pass
