"""The sections of the position monitor: small providers registered by slices, like the timeline's groups
(`app.core.timeline`). Each gives the rows of one table of a position's life (its carico, acts, notification
outcomes, ledger, payments, plans, suspensions, procedures...) with export columns, so the page, the section
exports and the PDF dossier show them alike. A slice that adds a stage of a position's life registers its own
section next to its models, e.g. a stored plan's installments::

    from app.monitor.sections import Section, register_section
    register_section(Section("piano", "Piano di rateazione", COLUMNS, rows=installment_rows, order=55))

`rows(session, principal, position)` reads through the scoping helper and returns dicts keyed by the columns'
keys (plus an optional `_link`: the URL of the row's own page, shown on screen only). The sections of the
slices that existed when the monitor was built are registered at the end of this module."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped
from app.core.timeline import timeline_entries, timeline_select
from app.positions.models import COMPONENT_LABELS, MOVEMENT_KINDS, Movement, Position
from app.reports.export_formats.spec import iter_values
from app.reports.exports import Column, ExportSpec

RowsProvider = Callable[[Session, Principal, Position], list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Section:
    key: str  # a slug: the export's file name and the ?sezione= value
    title: str
    columns: Sequence[Column]
    rows: RowsProvider
    order: int = 100
    totals: Sequence[str] = field(default=())
    empty: str = "Nessun elemento."

    def spec(self, subtitle: str = "") -> ExportSpec:
        title = f"{self.title} – {subtitle}" if subtitle else self.title
        return ExportSpec(
            title=title, columns=self.columns, filename_stem=f"monitor_{self.key}", totals=self.totals
        )

    def display(self, rows: list[dict[str, Any]]) -> list[tuple[list[str], str | None]]:
        """Each row as the Italian texts people read (labels, 1.234,56 €, 31/12/2026), with its link."""
        spec = self.spec()
        shown = []
        for row, values in zip(rows, iter_values(rows, spec), strict=True):
            cells = ["" if v is None else c.display(v) for c, v in zip(spec.columns, values, strict=True)]
            shown.append((cells, row.get("_link")))
        return shown

    def total_cells(self, rows: list[dict[str, Any]]) -> list[str] | None:
        if not self.totals or not rows:
            return None
        spec = self.spec()
        sums = {key: sum(int(r[key] or 0) for r in rows) for key in self.totals}
        return [c.display(sums[c.key]) if c.key in sums else "" for c in spec.columns]


_SECTIONS: dict[str, Section] = {}


def register_section(section: Section) -> None:
    if section.key in _SECTIONS:
        raise ValueError(f"monitor section {section.key!r} registered twice")
    _SECTIONS[section.key] = section


def registered_sections() -> list[Section]:
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))


def section_by_key(key: str) -> Section | None:
    return _SECTIONS.get(key)


# --- the sections of the slices that existed when the monitor was built ------------------------------------


def _url(endpoint: str, **values: Any) -> str | None:
    from flask import has_request_context, url_for

    return url_for(endpoint, **values) if has_request_context() else None


def _carico_rows(session: Session, principal: Principal, position: Position) -> list[dict[str, Any]]:
    from app.carichi.models import Carico

    if position.carico_id is None:
        return []
    stmt = scoped(sa.select(Carico).where(Carico.id == position.carico_id), Carico, principal)
    return [
        {
            "riferimento": c.reference,
            "data_ricezione": c.received_date,
            "file": c.file_name,
            "stato": c.status,
            "righe": c.rows_accepted,
            "totale_cents": c.total_cents,
            "_link": _url("monitor.carichi", carico=c.id),
        }
        for c in session.scalars(stmt)
    ]


def _act_rows(session: Session, principal: Principal, position: Position) -> list[dict[str, Any]]:
    from app.atti.models import Act, ActType

    stmt = scoped(
        sa.select(Act, ActType.name)
        .join(ActType, ActType.id == Act.act_type_id)
        .where(Act.position_id == position.id)
        .order_by(Act.issue_date, Act.id),
        Act,
        principal,
    )
    return [
        {
            "protocollo": a.protocol,
            "tipo": name,
            "data_emissione": a.issue_date,
            "importo_cents": a.amount_due_cents,
            "stato": a.status,
            "canale": a.channel,
            "data_invio": a.sent_date,
            "esito": a.notification_outcome,
            "data_notifica": a.notified_date,
            "_link": _url("atti.act_detail", act_id=a.id),
        }
        for a, name in session.execute(stmt)
    ]


def _outcome_rows(session: Session, principal: Principal, position: Position) -> list[dict[str, Any]]:
    from app.atti.delivery.models import ActOutcome
    from app.atti.models import Act

    stmt = scoped(
        sa.select(ActOutcome, Act.protocol)
        .join(Act, Act.id == ActOutcome.act_id)
        .where(Act.position_id == position.id)
        .order_by(ActOutcome.event_date, ActOutcome.id),
        ActOutcome,
        principal,
    )
    return [
        {
            "protocollo": protocol,
            "canale": o.channel,
            "esito": o.outcome,
            "data_evento": o.event_date,
            "data_notifica": o.notified_date,
            "termine_pagamento": o.payment_due_date,
            "prescrizione": o.prescription_date,
            "fonte": o.source,
            "regola": o.rule_source,
        }
        for o, protocol in session.execute(stmt)
    ]


def _movement_rows(session: Session, principal: Principal, position: Position) -> list[dict[str, Any]]:
    stmt = scoped(
        sa.select(Movement)
        .where(Movement.position_id == position.id)
        .order_by(Movement.booked_dt, Movement.id),
        Movement,
        principal,
    )
    return [
        {
            "numero": m.id,
            "data_valuta": m.value_date,
            "registrato": m.booked_dt,
            "tipo": m.kind,
            "componente": m.component,
            "importo_cents": m.amount_cents,
            "storno_di": m.reverses_id,
            "fonte": m.source,
        }
        for m in session.scalars(stmt)
    ]


def _payment_rows(session: Session, principal: Principal, position: Position) -> list[dict[str, Any]]:
    from app.payments.models import Allocation, Payment

    stmt = scoped(
        sa.select(Allocation, Payment)
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(Allocation.position_id == position.id)
        .order_by(Payment.paid_date, Allocation.id),
        Allocation,
        principal,
    )
    return [
        {
            "data_pagamento": p.paid_date,
            "canale": p.channel,
            "id_pagamento": p.external_id,
            "importo_pagamento_cents": p.amount_cents,
            "stato": p.status,
            "componente": a.component,
            "imputato_cents": a.amount_cents,
            "registrato": a.booked_dt,
        }
        for a, p in session.execute(stmt)
    ]


def _plan_rows(session: Session, principal: Principal, position: Position) -> list[dict[str, Any]]:
    from app.plans.models import PlanRequest, PlanRequestPosition

    stmt = scoped(
        sa.select(PlanRequest, PlanRequestPosition.amount_cents)
        .join(PlanRequestPosition, PlanRequestPosition.request_id == PlanRequest.id)
        .where(PlanRequestPosition.position_id == position.id)
        .order_by(PlanRequest.created_dt),
        PlanRequest,
        principal,
    )
    return [
        {
            "richiesta": r.created_dt,
            "stato": r.status,
            "rate": r.installments,
            "prima_rata": r.first_due,
            "importo_cents": amount,
            "decisione": r.decided_dt,
            "deciso_da": r.decided_by_label,
        }
        for r, amount in session.execute(stmt)
    ]


SUSPENSION_KINDS = ("position.suspended", "position.suspension_revoked")


def _event_rows(kinds: tuple[str, ...] | None) -> RowsProvider:
    def rows(session: Session, principal: Principal, position: Position) -> list[dict[str, Any]]:
        from app.core.audit import Event

        stmt = scoped(sa.select(Event).where(Event.position_id == position.id), Event, principal)
        if kinds is not None:
            stmt = stmt.where(Event.kind.in_(kinds)).order_by(Event.occurred_dt, Event.id)
            entries = [(e.occurred_dt, e.summary, e.actor_label) for e in session.scalars(stmt)]
        else:  # the whole chronology: the events and the slices' timeline sources (app.core.timeline)
            visible = scoped(sa.select(Position.id).where(Position.id == position.id), Position, principal)
            every = timeline_select(stmt, lambda column: column.in_(visible), newest_first=False)
            entries = [
                (e.occurred_dt, e.summary, e.actor_label) for e in timeline_entries(session.execute(every))
            ]
        return [{"quando": when, "evento": summary, "autore": actor} for when, summary, actor in entries]

    return rows


def _labels() -> dict[str, Any]:
    from app.atti.delivery.models import OUTCOME_SOURCES, OUTCOMES
    from app.atti.models import ACT_STATUSES
    from app.payments.models import PAYMENT_CHANNELS, PAYMENT_STATUSES
    from app.plans.models import REQUEST_STATUSES

    return {
        "outcomes": OUTCOMES,
        "outcome_sources": OUTCOME_SOURCES,
        "act_statuses": ACT_STATUSES,
        "channels": PAYMENT_CHANNELS,
        "payment_statuses": PAYMENT_STATUSES,
        "requests": REQUEST_STATUSES,
    }


def _register_builtin() -> None:
    labels = _labels()
    event_columns = (
        Column("quando", "Data e ora", "datetime"),
        Column("evento", "Evento"),
        Column("autore", "Autore"),
    )
    for section in (
        Section(
            "carico",
            "Lista di carico di provenienza",
            (
                Column("riferimento", "Riferimento"),
                Column("data_ricezione", "Ricevuta il", "date"),
                Column("file", "File"),
                Column("stato", "Stato"),
                Column("righe", "Righe accettate", "int"),
                Column("totale_cents", "Totale del carico", "money"),
            ),
            _carico_rows,
            order=10,
            empty="La posizione non proviene da una lista di carico.",
        ),
        Section(
            "atti",
            "Atti emessi",
            (
                Column("protocollo", "Protocollo"),
                Column("tipo", "Tipo"),
                Column("data_emissione", "Emesso il", "date"),
                Column("importo_cents", "Importo intimato", "money"),
                Column("stato", "Stato", labels=labels["act_statuses"]),
                Column("canale", "Canale"),
                Column("data_invio", "Inviato il", "date"),
                Column("esito", "Esito", labels=labels["outcomes"]),
                Column("data_notifica", "Notificato il", "date"),
            ),
            _act_rows,
            order=20,
            empty="Nessun atto emesso.",
        ),
        Section(
            "notifiche",
            "Esiti di notifica",
            (
                Column("protocollo", "Atto"),
                Column("canale", "Canale"),
                Column("esito", "Esito", labels=labels["outcomes"]),
                Column("data_evento", "Data evento", "date"),
                Column("data_notifica", "Notificato il", "date"),
                Column("termine_pagamento", "Termine di pagamento", "date"),
                Column("prescrizione", "Prescrizione", "date"),
                Column("fonte", "Fonte", labels=labels["outcome_sources"]),
                Column("regola", "Regola"),
            ),
            _outcome_rows,
            order=25,
            empty="Nessun esito di notifica.",
        ),
        Section(
            "movimenti",
            "Movimenti contabili",
            (
                Column("numero", "N.", "int", grouping=False),
                Column("data_valuta", "Data valuta", "date"),
                Column("registrato", "Registrato", "datetime"),
                Column("tipo", "Tipo", labels=MOVEMENT_KINDS),
                Column("componente", "Componente", labels=COMPONENT_LABELS),
                Column("importo_cents", "Importo", "money"),
                Column("storno_di", "Storno del n.", "int", grouping=False),
                Column("fonte", "Fonte"),
            ),
            _movement_rows,
            order=30,
            totals=("importo_cents",),
            empty="Nessun movimento.",
        ),
        Section(
            "pagamenti",
            "Pagamenti e imputazioni",
            (
                Column("data_pagamento", "Pagato il", "date"),
                Column("canale", "Canale", labels=labels["channels"]),
                Column("id_pagamento", "Id pagamento / IUR"),
                Column("importo_pagamento_cents", "Importo del pagamento", "money"),
                Column("stato", "Stato", labels=labels["payment_statuses"]),
                Column("componente", "Imputato a", labels=COMPONENT_LABELS),
                Column("imputato_cents", "Importo imputato", "money"),
                Column("registrato", "Registrato", "datetime"),
            ),
            _payment_rows,
            order=40,
            totals=("imputato_cents",),
            empty="Nessun pagamento imputato.",
        ),
        Section(
            "rateazioni",
            "Richieste di rateazione",
            (
                Column("richiesta", "Richiesta il", "datetime"),
                Column("stato", "Stato", labels=labels["requests"]),
                Column("rate", "Rate", "int"),
                Column("prima_rata", "Prima rata", "date"),
                Column("importo_cents", "Importo della posizione", "money"),
                Column("decisione", "Decisa il", "datetime"),
                Column("deciso_da", "Decisa da"),
            ),
            _plan_rows,
            order=50,
            empty="Nessuna richiesta di rateazione.",
        ),
        Section(
            "sospensioni",
            "Sospensioni",
            event_columns,
            _event_rows(SUSPENSION_KINDS),
            order=60,
            empty="Nessuna sospensione.",
        ),
        Section(
            "eventi",
            "Cronologia della posizione",
            event_columns,
            _event_rows(None),
            order=90,
            empty="Nessun evento.",
        ),
    ):
        register_section(section)


_register_builtin()
