"""Procedures (fermo, ipoteca, pignoramento presso terzi, insinuazione al passivo) on a position, their steps
(dates, costs from the DM tables in parameters, acts and documents), and the insolvency proceedings of a
taxpayer (the court's, not ours: what an insinuazione is filed in)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.access import register_scope, through
from app.core.audit import EVENT_KINDS
from app.core.db import Base, Cents, CreatedMixin, JsonDoc, UTCDateTime, utcnow
from app.core.timeline import register_event_group
from app.procedures.machine import KINDS, MACHINES, OPERATIONS

INSOLVENCY_KINDS: dict[str, str] = {
    "liquidazione_giudiziale": "Liquidazione giudiziale",
    "concordato_preventivo": "Concordato preventivo",
    "liquidazione_controllata": "Liquidazione controllata",
    "fallimento": "Fallimento (ante D.Lgs. 14/2019)",
}
THIRD_PARTY_KINDS: dict[str, str] = {
    "datore": "Datore di lavoro (stipendio)",
    "banca": "Banca (conto corrente)",
}


def _in(column: str, values: Any) -> str:
    return f"{column} IN ({','.join(repr(v) for v in values)})"


class Procedure(CreatedMixin, Base):
    """One procedure on one position. `details` holds what the kind needs (the vehicle of a fermo, the third
    party of a pignoramento, the proceeding and the amount filed of an insinuazione); `deadline` is the next
    date the procedure waits for (end of the 30 days of a preavviso, the third party's 60 days, the filing
    deadline)."""

    __tablename__ = "procedures"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"), index=True)
    position_id: Mapped[int] = mapped_column(sa.ForeignKey("positions.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[str] = mapped_column(sa.String(30))
    started_on: Mapped[dt.date] = mapped_column(sa.Date)
    amount_cents: Mapped[int] = mapped_column(Cents)  # the amount due when it started
    deadline: Mapped[dt.date | None] = mapped_column(sa.Date)
    details: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    outcome: Mapped[str | None] = mapped_column(sa.String(300))
    closed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    act_id: Mapped[int | None] = mapped_column(sa.ForeignKey("acts.id"))  # preavviso / comunicazione
    insolvency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("insolvency_proceedings.id"))
    created_by_label: Mapped[str] = mapped_column(sa.String(120))

    position = relationship("Position")
    taxpayer = relationship("Taxpayer")
    ente = relationship("Ente")
    act = relationship("Act")
    insolvency: Mapped[InsolvencyProceeding | None] = relationship()
    steps: Mapped[list[ProcedureStep]] = relationship(
        back_populates="procedure", order_by="ProcedureStep.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint(_in("kind", KINDS), name="kind"),
        sa.Index("ix_procedures_ente_kind_state", "ente_id", "kind", "state"),
    )

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def state_label(self) -> str:
        return MACHINES[self.kind].states.get(self.state, self.state)

    @property
    def is_open(self) -> bool:
        return self.state not in MACHINES[self.kind].closed

    @property
    def costs_cents(self) -> int:
        return sum(s.cost_cents or 0 for s in self.steps)


class ProcedureStep(Base):
    """One step taken (append-only): its date, the date it waits for, its cost (a parameter row of the DM
    table, booked as a `spese` movement), the act or archive document that proves it."""

    __tablename__ = "procedure_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_id: Mapped[int] = mapped_column(sa.ForeignKey("procedures.id", ondelete="CASCADE"), index=True)
    operation: Mapped[str] = mapped_column(sa.String(30))
    from_state: Mapped[str | None] = mapped_column(sa.String(30))
    to_state: Mapped[str] = mapped_column(sa.String(30))
    step_date: Mapped[dt.date] = mapped_column(sa.Date)
    due_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    cost_cents: Mapped[int | None] = mapped_column(Cents)
    cost_source: Mapped[str | None] = mapped_column(sa.String(300))
    act_id: Mapped[int | None] = mapped_column(sa.ForeignKey("acts.id"))
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("documents.id"))
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"))
    note: Mapped[str | None] = mapped_column(sa.String(1000))
    actor_label: Mapped[str] = mapped_column(sa.String(120))
    recorded_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    procedure: Mapped[Procedure] = relationship(back_populates="steps")
    act = relationship("Act")
    document = relationship("Document")

    @property
    def operation_label(self) -> str:
        return OPERATIONS.get(self.operation, "Avvio" if self.operation == "avvio" else self.operation)


class InsolvencyProceeding(CreatedMixin, Base):
    """A taxpayer's insolvency proceeding (court, opening date, deadline to file claims). Open while
    `closed_on` is empty: `app.procedures.predicates.in_open_insolvency` reads it set-based."""

    __tablename__ = "insolvency_proceedings"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    court: Mapped[str] = mapped_column(sa.String(200))
    case_number: Mapped[str | None] = mapped_column(sa.String(60))
    opened_on: Mapped[dt.date] = mapped_column(sa.Date)
    filing_deadline: Mapped[dt.date] = mapped_column(sa.Date)
    closed_on: Mapped[dt.date | None] = mapped_column(sa.Date)

    __table_args__ = (sa.CheckConstraint(_in("kind", INSOLVENCY_KINDS), name="kind"),)

    @property
    def kind_label(self) -> str:
        return INSOLVENCY_KINDS.get(self.kind, self.kind)


EVENT_KINDS.update(
    {
        "procedure.started": "Procedura avviata",
        "procedure.step": "Fase di una procedura",
        "procedure.cancellation_requested": "Cancellazione del fermo richiesta",
        "insolvency.recorded": "Procedura concorsuale registrata",
    }
)
register_event_group("procedure.", "posizioni")
register_event_group("insolvency.", "posizioni")

# Who sees what (app.core.access): a procedure and an insolvency proceeding belong to their ente and taxpayer;
# a step goes with its procedure.
register_scope(Procedure, ente=Procedure.ente_id, taxpayer=Procedure.taxpayer_id)
register_scope(
    ProcedureStep, ente=through(ProcedureStep.procedure_id), taxpayer=through(ProcedureStep.procedure_id)
)
register_scope(
    InsolvencyProceeding, ente=InsolvencyProceeding.ente_id, taxpayer=InsolvencyProceeding.taxpayer_id
)
