"""The curated datasets of the ad-hoc query builder (R-A21): what a user may select, filter, group, measure.

Everything a query can touch is declared here as a whitelisted SQLAlchemy expression; a user only picks keys
from these declarations, never writes SQL. Each dataset names the model its rows come from (`entity`), which
the builder hands to `app.core.access.scoped`, so every query sees only the user's enti (or nothing).

| dataset       | rows              | scoped by                          |
|---------------|-------------------|------------------------------------|
| posizioni     | positions         | Position (ente)                    |
| pagamenti     | payments          | Payment (ente)                     |
| atti          | acts issued       | Act (ente)                         |
| contatti      | contact log       | Contact (ente)                     |
| contribuenti  | taxpayers         | Taxpayer (linked to the enti)      |

Fields: ``kind`` is the export kind (text, int, money in cents, date, datetime); ``group`` whether it may be
a group-by dimension; ``measure`` whether it may be summed and averaged (int and money fields).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import sqlalchemy as sa

from app.reports.exports import Kind


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    label: str
    expr: Any
    kind: Kind = "text"
    group: bool = False
    measure: bool = False
    labels: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Dataset:
    key: str
    label: str
    entity: type
    fields: tuple[Field, ...]
    joins: tuple[tuple[Any, Any], ...] = field(default=())  # (target, onclause): reference tables only
    default_columns: tuple[str, ...] = ()

    def get(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def has(self, key: str) -> bool:
        return any(f.key == key for f in self.fields)

    def base(self, *columns: Any) -> sa.Select:
        stmt = sa.select(*columns).select_from(self.entity)
        for target, onclause in self.joins:
            stmt = stmt.join(target, onclause)
        return stmt


def _ledger_sum(position_id: Any, *kinds: str) -> Any:
    from app.positions.models import Movement

    stmt = sa.select(sa.func.coalesce(sa.func.sum(Movement.amount_cents), 0)).where(
        Movement.position_id == position_id
    )
    if kinds:
        stmt = stmt.where(Movement.kind.in_(kinds))
    return stmt.scalar_subquery()


def _positions() -> Dataset:
    from app.engine.states import STATES
    from app.enti.models import Ente, Entrata
    from app.positions.models import Position

    return Dataset(
        key="posizioni",
        label="Posizioni",
        entity=Position,
        joins=((Ente, Ente.id == Position.ente_id), (Entrata, Entrata.id == Position.entrata_id)),
        fields=(
            Field("ente", "Ente", Ente.code, group=True),
            Field("entrata", "Entrata", Entrata.code, group=True),
            Field("anno", "Anno", Position.year, "int", group=True),
            Field("stato", "Stato", Position.state, group=True, labels=dict(STATES)),
            Field("riferimento", "Identificativo", Position.external_id),
            Field("scadenza", "Scadenza", Position.due_date, "date"),
            Field("carico", "Carico", _ledger_sum(Position.id, "carico"), "money", measure=True),
            Field("residuo", "Residuo", _ledger_sum(Position.id), "money", measure=True),
        ),
        default_columns=("ente", "entrata", "anno", "riferimento", "stato", "scadenza", "carico", "residuo"),
    )


def _payments() -> Dataset:
    from app.enti.models import Ente
    from app.payments.models import PAYMENT_CHANNELS, PAYMENT_STATUSES, Payment

    return Dataset(
        key="pagamenti",
        label="Pagamenti",
        entity=Payment,
        joins=((Ente, Ente.id == Payment.ente_id),),
        fields=(
            Field("ente", "Ente", Ente.code, group=True),
            Field("canale", "Canale", Payment.channel, group=True, labels=dict(PAYMENT_CHANNELS)),
            Field("stato", "Stato", Payment.status, group=True, labels=dict(PAYMENT_STATUSES)),
            Field("data", "Data pagamento", Payment.paid_date, "date", group=True),
            Field("codice_fiscale", "Codice fiscale", Payment.codice_fiscale),
            Field("iuv", "IUV", Payment.iuv),
            Field("importo", "Importo", Payment.amount_cents, "money", measure=True),
        ),
        default_columns=("ente", "data", "canale", "stato", "codice_fiscale", "iuv", "importo"),
    )


def _acts() -> Dataset:
    from app.atti.models import ACT_STATUSES, Act, ActType
    from app.enti.models import Ente, Entrata

    return Dataset(
        key="atti",
        label="Atti emessi",
        entity=Act,
        joins=(
            (Ente, Ente.id == Act.ente_id),
            (Entrata, Entrata.id == Act.entrata_id),
            (ActType, ActType.id == Act.act_type_id),
        ),
        fields=(
            Field("ente", "Ente", Ente.code, group=True),
            Field("entrata", "Entrata", Entrata.code, group=True),
            Field("tipo", "Tipo di atto", ActType.name, group=True),
            Field("stato", "Stato", Act.status, group=True, labels=dict(ACT_STATUSES)),
            Field("canale", "Canale di recapito", Act.channel, group=True),
            Field("esito", "Esito della notifica", Act.notification_outcome, group=True),
            Field("protocollo", "Protocollo", Act.protocol),
            Field("emesso", "Data di emissione", Act.issue_date, "date", group=True),
            Field("notificato", "Data di notifica", Act.notified_date, "date"),
            Field("importo", "Importo dovuto", Act.amount_due_cents, "money", measure=True),
        ),
        default_columns=("ente", "entrata", "tipo", "protocollo", "emesso", "stato", "notificato", "importo"),
    )


def _contacts() -> Dataset:
    from app.crm.contacts.models import CHANNELS, DIRECTIONS, OUTCOMES, Contact, ContactTopic
    from app.enti.models import Ente

    return Dataset(
        key="contatti",
        label="Contatti",
        entity=Contact,
        joins=((Ente, Ente.id == Contact.ente_id), (ContactTopic, ContactTopic.id == Contact.topic_id)),
        fields=(
            Field("ente", "Ente", Ente.code, group=True),
            Field("canale", "Canale", Contact.channel, group=True, labels=dict(CHANNELS)),
            Field("direzione", "Direzione", Contact.direction, group=True, labels=dict(DIRECTIONS)),
            Field("argomento", "Argomento", ContactTopic.label, group=True),
            Field("esito", "Esito", Contact.outcome, group=True, labels=dict(OUTCOMES)),
            Field("operatore", "Operatore", Contact.operator_label, group=True),
            Field("inizio", "Data e ora", Contact.started_dt, "datetime"),
            Field("durata", "Durata (secondi)", Contact.duration_seconds, "int", measure=True),
        ),
        default_columns=("ente", "inizio", "canale", "direzione", "argomento", "esito", "durata"),
    )


def _taxpayers() -> Dataset:
    from app.taxpayers.models import Taxpayer

    return Dataset(
        key="contribuenti",
        label="Contribuenti",
        entity=Taxpayer,
        fields=(
            Field(
                "tipo",
                "Tipo",
                Taxpayer.kind,
                group=True,
                labels={"PF": "Persona fisica", "PG": "Persona giuridica"},
            ),
            Field("codice_fiscale", "Codice fiscale", Taxpayer.codice_fiscale),
            Field("nominativo", "Nominativo", Taxpayer.search_name),
            Field("nascita", "Data di nascita", Taxpayer.birth_date, "date"),
            Field(
                "anno_nascita", "Anno di nascita", sa.extract("year", Taxpayer.birth_date), "int", group=True
            ),
        ),
        default_columns=("tipo", "codice_fiscale", "nominativo", "nascita"),
    )


_BUILDERS: tuple[Callable[[], Dataset], ...] = (_positions, _payments, _acts, _contacts, _taxpayers)


@cache
def datasets() -> dict[str, Dataset]:
    """Every curated dataset by key (built once, after the models are mapped)."""
    return {d.key: d for d in (build() for build in _BUILDERS)}


def dataset(key: str) -> Dataset | None:
    return datasets().get(key)
