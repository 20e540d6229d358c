"""Reads of the contact log, the calendar and the statistics, always through the scoping helper."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from app.core.access import Principal, scoped, scoped_join
from app.core.calendar import is_italian_holiday
from app.core.errors import NotFound
from app.core.query_forms import QueryArgs
from app.crm.contacts.models import Appointment, Contact, ContactTopic, SlotRule, Sportello
from app.reports.formatting import format_month_it
from app.taxpayers.models import Taxpayer, TaxpayerEnte

ROME = ZoneInfo("Europe/Rome")


def rome_date(when: dt.datetime) -> dt.date:
    return when.astimezone(ROME).date()


def today_rome() -> dt.date:
    return dt.datetime.now(ROME).date()


# --- topics ---------------------------------------------------------------------------------------------


def current_topic(session: Session, ente_id: int, code: str, day: dt.date) -> ContactTopic | None:
    return session.scalars(
        sa.select(ContactTopic).where(
            ContactTopic.ente_id == ente_id,
            ContactTopic.code == code,
            ContactTopic.valid_from <= day,
            sa.or_(ContactTopic.valid_to.is_(None), ContactTopic.valid_to >= day),
        )
    ).first()


def topics_on(session: Session, principal: Principal, day: dt.date) -> list[ContactTopic]:
    """The topics valid on `day` of the principal's enti."""
    stmt = sa.select(ContactTopic).where(
        ContactTopic.valid_from <= day, sa.or_(ContactTopic.valid_to.is_(None), ContactTopic.valid_to >= day)
    )
    return list(session.scalars(scoped(stmt, ContactTopic, principal).order_by(ContactTopic.label)))


def all_topics(session: Session, principal: Principal) -> list[ContactTopic]:
    stmt = scoped(sa.select(ContactTopic), ContactTopic, principal)
    return list(session.scalars(stmt.order_by(ContactTopic.label, ContactTopic.valid_from)))


# --- the card's section ---------------------------------------------------------------------------------


def enti_of_taxpayer(session: Session, principal: Principal, taxpayer_id: int) -> list[int]:
    """The enti (in the principal's scope) the taxpayer owes to: where a contact can be registered."""
    stmt = scoped(
        sa.select(TaxpayerEnte.ente_id).where(TaxpayerEnte.taxpayer_id == taxpayer_id),
        TaxpayerEnte,
        principal,
    )
    return sorted(session.scalars(stmt))


def list_contacts_of_taxpayer(
    session: Session, principal: Principal, taxpayer_id: int, *, limit: int = 10
) -> list[Contact]:
    stmt = scoped(
        sa.select(Contact)
        .where(Contact.taxpayer_id == taxpayer_id)
        .options(
            joinedload(Contact.topic),
            joinedload(Contact.ente),
            selectinload(Contact.position_links),
            selectinload(Contact.document_links),
        )
        .order_by(Contact.started_dt.desc(), Contact.id.desc())
        .limit(limit),
        Contact,
        principal,
    )
    return list(session.scalars(stmt).unique())


def get_contact(session: Session, principal: Principal, contact_id: int) -> Contact:
    stmt = scoped(sa.select(Contact).where(Contact.id == contact_id), Contact, principal)
    contact = session.scalars(stmt.options(joinedload(Contact.topic), joinedload(Contact.taxpayer))).first()
    if contact is None:
        raise NotFound("Contatto non trovato.")
    return contact


# --- the header search: contact notes by full text -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteHit:
    contact: Contact
    taxpayer: Taxpayer


def search_contact_notes(
    session: Session, principal: Principal, query: str, *, limit: int = 10
) -> list[NoteHit]:
    """Contacts whose notes match `query` (PostgreSQL: Italian full text, stemmed; SQLite: every word as a
    substring), newest first, with their taxpayer (both scoped)."""
    words = [w for w in query.split() if len(w) >= 2]
    if not words:
        return []
    if session.get_bind().dialect.name == "postgresql":
        condition = sa.func.to_tsvector(sa.literal_column("'italian'::regconfig"), Contact.notes).op("@@")(
            sa.func.plainto_tsquery(sa.literal_column("'italian'::regconfig"), query)
        )
    else:
        condition = sa.and_(
            *(sa.func.lower(Contact.notes).contains(w.lower(), autoescape=True) for w in words)
        )
    stmt = (
        scoped_join(
            scoped(sa.select(Contact, Taxpayer).select_from(Contact), Contact, principal),
            Taxpayer,
            Taxpayer.id == Contact.taxpayer_id,
            principal,
        )
        .where(condition)
        .options(joinedload(Contact.topic))
        .order_by(Contact.started_dt.desc(), Contact.id.desc())
    )
    return [NoteHit(c, t) for c, t in session.execute(stmt.limit(limit)).unique().tuples()]


# --- sportelli and slots ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Slot:
    start_dt: dt.datetime  # UTC
    end_dt: dt.datetime
    capacity: int
    booked: list[Appointment] = field(default_factory=list)

    @property
    def free(self) -> int:
        return max(self.capacity - len(self.booked), 0)

    @property
    def local_start(self) -> dt.datetime:
        return self.start_dt.astimezone(ROME)


def list_sportelli(session: Session, principal: Principal) -> list[Sportello]:
    stmt = scoped(sa.select(Sportello).where(Sportello.active), Sportello, principal)
    return list(session.scalars(stmt.options(selectinload(Sportello.rules)).order_by(Sportello.name)))


def get_sportello(session: Session, principal: Principal, sportello_id: int) -> Sportello:
    stmt = scoped(sa.select(Sportello).where(Sportello.id == sportello_id), Sportello, principal)
    sportello = session.scalars(stmt.options(selectinload(Sportello.rules))).first()
    if sportello is None:
        raise NotFound("Sportello non trovato.")
    return sportello


def bookable_sportelli(session: Session, principal: Principal) -> list[Sportello]:
    """Staff: the sportelli of their enti. A taxpayer: those of the enti they owe to."""
    if principal.role != "contribuente":
        return list_sportelli(session, principal)
    enti = sa.select(TaxpayerEnte.ente_id).where(TaxpayerEnte.taxpayer_id == principal.taxpayer_id)
    stmt = sa.select(Sportello).where(Sportello.active, Sportello.ente_id.in_(enti))
    return list(session.scalars(stmt.options(selectinload(Sportello.rules)).order_by(Sportello.name)))


def get_bookable_sportello(session: Session, principal: Principal, sportello_id: int) -> Sportello:
    for sportello in bookable_sportelli(session, principal):
        if sportello.id == sportello_id:
            return sportello
    raise NotFound("Sportello non trovato.")


def slots_of_day(sportello: Sportello, day: dt.date) -> list[Slot]:
    """The slots the sportello's rules open on `day` (none on national holidays), in time order."""
    if is_italian_holiday(day):
        return []
    slots: dict[dt.datetime, Slot] = {}
    for rule in sportello.rules:
        if rule.weekday != day.weekday() or not rule.valid_on(day):
            continue
        start = dt.datetime.combine(day, rule.start_time, tzinfo=ROME)
        end_of_day = dt.datetime.combine(day, rule.end_time, tzinfo=ROME)
        step = dt.timedelta(minutes=rule.slot_minutes)
        while start + step <= end_of_day:
            key = start.astimezone(dt.UTC)
            slots.setdefault(key, Slot(key, (start + step).astimezone(dt.UTC), rule.capacity))
            start += step
    return [slots[k] for k in sorted(slots)]


def find_slot(session: Session, sportello: Sportello, start_dt: dt.datetime) -> Slot | None:
    day = rome_date(start_dt)
    return next((s for s in slots_of_day(sportello, day) if s.start_dt == start_dt), None)


def calendar(
    session: Session, sportelli: Iterable[Sportello], first: dt.date, days: int
) -> dict[int, dict[dt.date, list[Slot]]]:
    """Each sportello's slots day by day from `first`, with the booked appointments in each (one query)."""
    sportelli = list(sportelli)
    result: dict[int, dict[dt.date, list[Slot]]] = {}
    by_key: dict[tuple[int, dt.datetime], Slot] = {}
    for sportello in sportelli:
        result[sportello.id] = {}
        for n in range(days):
            day = first + dt.timedelta(days=n)
            result[sportello.id][day] = slots_of_day(sportello, day)
            for slot in result[sportello.id][day]:
                by_key[(sportello.id, slot.start_dt)] = slot
    if not sportelli:
        return result
    start = dt.datetime.combine(first, dt.time(0), tzinfo=ROME).astimezone(dt.UTC)
    end = dt.datetime.combine(first + dt.timedelta(days=days), dt.time(0), tzinfo=ROME).astimezone(dt.UTC)
    booked = sa.select(Appointment).where(
        Appointment.sportello_id.in_([s.id for s in sportelli]),
        Appointment.status == "booked",
        Appointment.start_dt >= start,
        Appointment.start_dt < end,
    )
    for appointment in session.scalars(
        booked.options(joinedload(Appointment.taxpayer)).order_by(Appointment.start_dt, Appointment.seat)
    ):
        slot = by_key.get((appointment.sportello_id, appointment.start_dt))
        if slot is not None:
            slot.booked.append(appointment)
    return result


def list_appointments_of_taxpayer(
    session: Session, principal: Principal, taxpayer_id: int, *, upcoming_from: dt.datetime | None = None
) -> list[Appointment]:
    stmt = scoped(
        sa.select(Appointment).where(Appointment.taxpayer_id == taxpayer_id), Appointment, principal
    ).options(joinedload(Appointment.sportello))
    if upcoming_from is not None:
        stmt = stmt.where(Appointment.start_dt >= upcoming_from)
    return list(session.scalars(stmt.order_by(Appointment.start_dt.desc(), Appointment.id.desc()).limit(50)))


def slot_rules(session: Session, sportello_id: int) -> list[SlotRule]:
    return list(
        session.scalars(
            sa.select(SlotRule).where(SlotRule.sportello_id == sportello_id).order_by(SlotRule.weekday)
        )
    )


# --- statistics ------------------------------------------------------------------------------------------

DIMENSIONS: dict[str, str] = {
    "canale": "Canale",
    "argomento": "Argomento",
    "esito": "Esito",
    "operatore": "Operatore",
    "periodo": "Periodo",
}


@dataclass(frozen=True, slots=True)
class StatsFilter(QueryArgs):
    ente_id: int | None = None
    dal: dt.date | None = None
    al: dt.date | None = None
    channel: str | None = None
    topic_code: str | None = None
    outcome: str | None = None
    operator_id: int | None = None


@dataclass(frozen=True, slots=True)
class StatRow:
    key: str
    label: str
    contacts: int
    duration_seconds: int


def _filtered(stmt: sa.Select, principal: Principal, filters: StatsFilter) -> sa.Select:
    stmt = scoped(stmt, Contact, principal)
    if filters.ente_id is not None:
        stmt = stmt.where(Contact.ente_id == filters.ente_id)
    if filters.dal is not None:
        stmt = stmt.where(
            Contact.started_dt >= dt.datetime.combine(filters.dal, dt.time(0), tzinfo=ROME).astimezone(dt.UTC)
        )
    if filters.al is not None:
        end = dt.datetime.combine(filters.al + dt.timedelta(days=1), dt.time(0), tzinfo=ROME)
        stmt = stmt.where(Contact.started_dt < end.astimezone(dt.UTC))
    if filters.channel:
        stmt = stmt.where(Contact.channel == filters.channel)
    if filters.outcome:
        stmt = stmt.where(Contact.outcome == filters.outcome)
    if filters.operator_id is not None:
        stmt = stmt.where(Contact.operator_id == filters.operator_id)
    if filters.topic_code:
        stmt = stmt.where(
            Contact.topic_id.in_(sa.select(ContactTopic.id).where(ContactTopic.code == filters.topic_code))
        )
    return stmt


def contact_statistics(
    session: Session, principal: Principal, dimension: str, filters: StatsFilter
) -> list[StatRow]:
    """Contacts and their total duration grouped by one dimension (canale, argomento, esito, operatore, or
    periodo = the month in Rome), in the principal's scope."""
    from app.crm.contacts.models import CHANNELS, OUTCOMES

    count = sa.func.count(Contact.id)
    duration = sa.func.coalesce(sa.func.sum(Contact.duration_seconds), 0)
    if dimension == "canale":
        stmt = sa.select(Contact.channel, count, duration).group_by(Contact.channel)
        label = CHANNELS.get
    elif dimension == "esito":
        stmt = sa.select(Contact.outcome, count, duration).group_by(Contact.outcome)
        label = OUTCOMES.get
    elif dimension == "argomento":
        stmt = (
            sa.select(ContactTopic.label, count, duration)
            .join(ContactTopic, ContactTopic.id == Contact.topic_id)
            .group_by(ContactTopic.label)
        )
        label = None
    elif dimension == "operatore":
        stmt = sa.select(Contact.operator_label, count, duration).group_by(Contact.operator_label)
        label = None
    elif dimension == "periodo":
        month = _month_expression(session)
        stmt = sa.select(month, count, duration).group_by(month)
        label = format_month_it
    else:
        raise ValueError(f"unknown dimension {dimension!r}")
    stmt = _filtered(stmt.select_from(Contact), principal, filters)
    rows = [
        StatRow(str(key), (label(key) or str(key)) if label else str(key), int(n), int(seconds))
        for key, n, seconds in session.execute(stmt)
    ]
    if dimension == "periodo":
        return sorted(rows, key=lambda r: r.key)
    return sorted(rows, key=lambda r: (-r.contacts, r.label))


def _month_expression(session: Session) -> sa.ColumnElement[str]:
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone("Europe/Rome", Contact.started_dt), "YYYY-MM")
    return sa.func.strftime("%Y-%m", Contact.started_dt)  # SQLite (demo): months in UTC


def operators_with_contacts(session: Session, principal: Principal) -> list[tuple[int, str]]:
    stmt = scoped(
        sa.select(Contact.operator_id, Contact.operator_label)
        .where(Contact.operator_id.is_not(None))
        .distinct(),
        Contact,
        principal,
    )
    return sorted(((int(i), str(label)) for i, label in session.execute(stmt)), key=lambda r: r[1])
