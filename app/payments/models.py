"""Payments in (issue 5): notice numbers, flows, payments, their allocations to the ledger, the review queue,
anomalies, refunds, bank credits, layouts of bank/postal files and the riversamento flows sent back.

Amounts are integer cents. Every row carries `ente_id`: that is the scope each model declares at the end of
the module (`app.core.access.register_scope`).
Allocations are append-only like the ledger: a reversal is a new row with the opposite sign that names the row
it reverses (and points at the reversing ledger movement).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.access import register_scope
from app.core.db import Base, Cents, CreatedMixin, JsonDoc, UTCDateTime, utcnow
from app.jobs.files import STORED_FILE

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")

NOTICE_ITEM_KINDS = {"posizione": "Posizione", "rata": "Rata", "atto": "Atto"}

FLOW_SOURCES = {"pagopa": "pagoPA (FdR)", "csv": "File di pagamenti", "sportello": "Sportello"}
FLOW_STATUSES = {"accettato": "Accettato", "sostituito": "Sostituito da una nuova versione"}

PAYMENT_STATUSES = {
    "da_riconciliare": "Da riconciliare",
    "riconciliato": "Riconciliato",
    "in_revisione": "In revisione",
    "non_abbinato": "Non abbinato",
    "respinto": "Respinto (da restituire)",
    "revocato": "Revocato",
    "stornato": "Stornato",
    "sostituito": "Sostituito (flusso sovrascritto)",
    "revoca": "Revoca di un pagamento",
}
# pagoPA FdR codiceEsitoSingoloPagamento (domain.md §6.4).
OUTCOME_CODES = {
    "0": "Pagamento eseguito",
    "3": "Pagamento revocato",
    "4": "Pagamento eseguito in stand-in",
    "8": "Pagamento eseguito in stand-in in assenza di RPT",
    "9": "Pagamento eseguito in assenza di RPT",
}
EXECUTED_OUTCOMES = ("0", "4", "8", "9")
# how a payment was made, as screens name it (a payments layout may name its own: shown as given)
PAYMENT_CHANNELS = {
    "pagopa": "pagoPA",
    "bonifico": "Bonifico",
    "contanti": "Contanti",
    "pos": "Carta (POS)",
    "assegno": "Assegno circolare",
}
MATCH_METHODS = {
    "iuv": "Codice avviso / IUV",
    "euristica": "Codice fiscale, importo e causale",
    "operatore": "Operatore",
    "sportello": "Sportello",
}

REVIEW_STATUSES = {
    "aperta": "Da esaminare",
    "confermata": "Confermata",
    "divisa": "Ripartita",
    "respinta": "Respinta",
}
ANOMALY_KINDS = {
    "senza_debito": "Pagamento senza debito",
    "doppio_pagamento": "Debito pagato due volte",
    "importo_difforme": "Importo diverso dall'avviso",
    "posizione_sospesa": "Pagamento su posizione sospesa o sgravata",
    "totale_accredito": "Totale del flusso diverso dall'accredito in banca",
    "revoca_senza_pagamento": "Revoca di un pagamento non presente",
    "ordine_imputazione": "Componente fuori dall'ordine di imputazione",
    "rimborso_eseguito": "Rimborso già eseguito su un pagamento revocato o sostituito",
}
ANOMALY_STATUSES = {"aperta": "Aperta", "chiusa": "Chiusa"}
REFUND_STATUSES = {"da_rimborsare": "Da rimborsare", "rimborsato": "Rimborsato", "annullato": "Annullato"}


class NoticeNumber(Base):
    """A pagoPA codice avviso (formats.md §3): never reused, one per payable item."""

    __tablename__ = "notice_numbers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    position_id: Mapped[int | None] = mapped_column(sa.ForeignKey("positions.id"))
    item_kind: Mapped[str] = mapped_column(sa.String(12), default="posizione")
    item_ref: Mapped[str] = mapped_column(
        sa.String(60), default=""
    )  # installment n. / act id; '' for a position
    iuv_base: Mapped[int] = mapped_column(sa.BigInteger)
    notice_number: Mapped[str] = mapped_column(sa.String(18), unique=True)
    iuv: Mapped[str] = mapped_column(sa.String(17))
    amount_cents: Mapped[int] = mapped_column(Cents)  # due at the notice's date
    issued_date: Mapped[dt.date] = mapped_column(sa.Date)
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # the item it asked for was withdrawn (an installment replaced by a proroga): never reused, not to pay
    cancelled_date: Mapped[dt.date | None] = mapped_column(sa.Date)

    __table_args__ = (
        sa.UniqueConstraint("ente_id", "iuv"),
        sa.UniqueConstraint("position_id", "item_kind", "item_ref"),
        sa.CheckConstraint("item_kind IN ('posizione','rata','atto')", name="item_kind"),
        sa.CheckConstraint("amount_cents >= 0", name="amount"),
        sa.CheckConstraint("iuv_base >= 0 AND iuv_base < 10000000000000", name="iuv_base"),
    )


class NoticeCounter(Base):
    """The IUV base counter of an ente where the database has no sequences (SQLite, the embedded default).
    On PostgreSQL each ente has its own sequence `notice_iuv_base_ente_<id>` instead."""

    __tablename__ = "notice_counters"

    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"), primary_key=True, autoincrement=False)
    last_base: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class PaymentLayout(CreatedMixin, Base):
    """A bank or postal tracciato mapped onto the canonical payments CSV fields (formats.md §2).

    `columns`: for `csv` an object {canonical field: header in the file}; for `fixed` a list of
    {"field", "start" (1-based), "length"}. `options`: `record_length`, `record_type` {start, length, value}
    (fixed), `ignore_unknown_columns` (csv)."""

    __tablename__ = "payment_layouts"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    format: Mapped[str] = mapped_column(sa.String(10))
    encoding: Mapped[str] = mapped_column(sa.String(20), default="auto")
    separator: Mapped[str] = mapped_column(sa.String(5), default=";")
    decimal_separator: Mapped[str] = mapped_column(sa.String(5), default="auto")
    date_formats: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    columns: Mapped[Any] = mapped_column(JsonDoc, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    channel: Mapped[str] = mapped_column(sa.String(30), default="bonifico")
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (sa.CheckConstraint("format IN ('csv','fixed')", name="format"),)


class PaymentFlow(CreatedMixin, Base):
    """One flow of payments: an FdR, a payments file, or a desk day of one operator."""

    __tablename__ = "payment_flows"

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"), index=True)
    source: Mapped[str] = mapped_column(sa.String(12))  # pagopa | csv | sportello
    layout: Mapped[str | None] = mapped_column(sa.String(60))
    identifier: Mapped[str] = mapped_column(sa.String(100))  # identificativoFlusso, file name, desk day
    sender: Mapped[str] = mapped_column(sa.String(70), default="")  # istitutoMittente code, layout, operator
    sender_name: Mapped[str | None] = mapped_column(sa.String(140))
    flow_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # dataOraFlusso, or when it arrived
    regulation_ref: Mapped[str | None] = mapped_column(
        sa.String(35)
    )  # identificativoUnivocoRegolamento (TRN)
    regulation_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    bic: Mapped[str | None] = mapped_column(sa.String(35))
    schema_version: Mapped[str | None] = mapped_column(sa.String(20))  # "1.0.4", "1.0.4,1.0.5"
    file_name: Mapped[str | None] = mapped_column(sa.String(255))
    file_sha256: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    declared_count: Mapped[int | None] = mapped_column()
    declared_total_cents: Mapped[int | None] = mapped_column(Cents)
    computed_count: Mapped[int] = mapped_column(default=0)
    computed_total_cents: Mapped[int] = mapped_column(Cents, default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(12), default="accettato")
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment_flows.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(sa.String(120), default="")
    report: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)  # warnings, duplicates, encoding

    ente = relationship("Ente")

    __table_args__ = (
        sa.UniqueConstraint("ente_id", "source", "sender", "identifier", "flow_dt"),
        sa.CheckConstraint("source IN ('pagopa','csv','sportello')", name="source"),
        sa.CheckConstraint("status IN ('accettato','sostituito')", name="status"),
    )


class Payment(CreatedMixin, Base):
    """One payment received (or, outcome 3, one revocation of an earlier pagoPA payment)."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    flow_id: Mapped[int] = mapped_column(sa.ForeignKey("payment_flows.id"))
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    # The identity of a payment: IUR (pagoPA), id_pagamento of a file per layout, the desk receipt number.
    source_key: Mapped[str] = mapped_column(sa.String(80))
    external_id: Mapped[str] = mapped_column(sa.String(80))
    row_number: Mapped[int | None] = mapped_column()
    iuv: Mapped[str | None] = mapped_column(sa.String(35))
    notice_number: Mapped[str | None] = mapped_column(sa.String(18))
    iur: Mapped[str | None] = mapped_column(sa.String(35))
    transfer_index: Mapped[int | None] = mapped_column(sa.SmallInteger)
    outcome_code: Mapped[str | None] = mapped_column(sa.String(1))
    codice_fiscale: Mapped[str | None] = mapped_column(sa.String(16))
    causale: Mapped[str | None] = mapped_column(sa.String(300))
    channel: Mapped[str] = mapped_column(sa.String(30))
    amount_cents: Mapped[int] = mapped_column(Cents)
    paid_date: Mapped[dt.date] = mapped_column(sa.Date)
    value_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(16), default="da_riconciliare")
    position_id: Mapped[int | None] = mapped_column(sa.ForeignKey("positions.id"))
    notice_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("notice_numbers.id"))
    taxpayer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("taxpayers.id"))
    match_method: Mapped[str | None] = mapped_column(sa.String(12))
    credit_cents: Mapped[int] = mapped_column(Cents, default=0)  # what was left over: refunded
    revokes_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("payments.id"))
    receipt_number: Mapped[str | None] = mapped_column(sa.String(40), unique=True)  # desk quietanza
    payer_name: Mapped[str | None] = mapped_column(sa.String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The key of the desk form that registered it (generated when the form is shown): the same form posted
    # twice (a double click, a reload) finds this payment instead of making a second one.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64))

    flow: Mapped[PaymentFlow] = relationship()
    position = relationship("Position")

    __table_args__ = (
        # A payment already known (same key per source) is a duplicate; superseded rows keep their key.
        sa.Index(
            "uq_payments_source_key_external_id",
            "source_key",
            "external_id",
            unique=True,
            postgresql_where=sa.text("status <> 'sostituito'"),
            sqlite_where=sa.text("status <> 'sostituito'"),
        ),
        sa.Index(
            "uq_payments_idempotency_key",
            "idempotency_key",
            unique=True,
            postgresql_where=sa.text("idempotency_key IS NOT NULL"),
            sqlite_where=sa.text("idempotency_key IS NOT NULL"),
        ),
        sa.Index("ix_payments_flow_status", "flow_id", "status"),
        sa.Index("ix_payments_ente_iuv", "ente_id", "iuv"),
        sa.Index("ix_payments_position_id", "position_id"),
        sa.Index("ix_payments_taxpayer_id", "taxpayer_id"),
        sa.Index("ix_payments_ente_paid", "ente_id", "paid_date"),
        sa.CheckConstraint("amount_cents > 0", name="amount"),
        sa.CheckConstraint("credit_cents >= 0 AND credit_cents <= amount_cents", name="credit"),
        sa.CheckConstraint(
            "status IN ('da_riconciliare','riconciliato','in_revisione','non_abbinato','respinto','revocato',"
            "'stornato','sostituito','revoca')",
            name="status",
        ),
    )

    @property
    def status_label(self) -> str:
        return PAYMENT_STATUSES.get(self.status, self.status)

    @property
    def allocated_cents(self) -> int:
        return self.amount_cents - self.credit_cents if self.status == "riconciliato" else 0


class Allocation(Base):
    """A share of a payment put on one component of one position: the ledger movement it wrote.

    Positive when allocated, negative (with `reverses_id`) when a reversal took it back."""

    __tablename__ = "payment_allocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("payments.id"), index=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    # Denormalised from the movement (same statement), for reports by position: no foreign key and no index on
    # purpose (the movement's own foreign key guarantees it; "allocations of a position" go through the
    # movements' position index and `movement_id`).
    position_id: Mapped[int] = mapped_column(sa.Integer)
    component: Mapped[str] = mapped_column(sa.String(12))
    amount_cents: Mapped[int] = mapped_column(Cents)
    movement_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("movements.id"), unique=True)
    reverses_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("payment_allocations.id"))
    booked_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    payment: Mapped[Payment] = relationship()

    __table_args__ = (
        sa.CheckConstraint("amount_cents <> 0", name="nonzero"),
        sa.CheckConstraint("(reverses_id IS NULL) = (amount_cents > 0)", name="sign"),
        sa.Index("ix_payment_allocations_ente_booked", "ente_id", "booked_dt"),
        # An allocation is reversed at most once; partial, so the allocations themselves cost no index entry.
        sa.Index(
            "uq_payment_allocations_reverses_id",
            "reverses_id",
            unique=True,
            postgresql_where=sa.text("reverses_id IS NOT NULL"),
            sqlite_where=sa.text("reverses_id IS NOT NULL"),
        ),
    )


class Accrual(Base):
    """Interest or oneri booked in the ledger because this payment reached the ledger balance
    (`app.positions.amounts`): the movement it wrote, so that reversing the payment reverses it too.

    Append-only like the ledger: a reversal is a new row naming the row it reverses (and its reversing
    movement)."""

    __tablename__ = "payment_accruals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("payments.id"), index=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    position_id: Mapped[int] = mapped_column(sa.Integer)
    movement_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("movements.id"), unique=True)
    reverses_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("payment_accruals.id"), unique=True)
    booked_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewItem(CreatedMixin, Base):
    """A payment matched by heuristics (codice fiscale + amount + causale), waiting for an operator."""

    __tablename__ = "payment_reviews"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    payment_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("payments.id"), index=True)
    suggested_position_id: Mapped[int | None] = mapped_column(sa.ForeignKey("positions.id"))
    score: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    status: Mapped[str] = mapped_column(sa.String(12), default="aperta")
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    resolved_label: Mapped[str | None] = mapped_column(sa.String(120))
    resolved_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(sa.String(500))

    payment: Mapped[Payment] = relationship()
    suggested_position = relationship("Position")

    __table_args__ = (
        sa.Index("ix_payment_reviews_ente_status", "ente_id", "status"),
        sa.CheckConstraint("status IN ('aperta','confermata','divisa','respinta')", name="status"),
    )


class Anomaly(CreatedMixin, Base):
    """One line of an anomaly list (MyPivot style): someone works through them and closes them."""

    __tablename__ = "payment_anomalies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    kind: Mapped[str] = mapped_column(sa.String(30))
    status: Mapped[str] = mapped_column(sa.String(8), default="aperta")
    flow_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment_flows.id"))
    payment_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("payments.id"), index=True)
    position_id: Mapped[int | None] = mapped_column(sa.ForeignKey("positions.id"))
    amount_cents: Mapped[int | None] = mapped_column(Cents)
    expected_cents: Mapped[int | None] = mapped_column(Cents)
    detail: Mapped[str] = mapped_column(sa.String(500), default="")
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    resolved_label: Mapped[str | None] = mapped_column(sa.String(120))
    resolved_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(sa.String(500))

    payment = relationship("Payment")
    flow = relationship("PaymentFlow")

    __table_args__ = (
        sa.Index("ix_payment_anomalies_ente_kind_status", "ente_id", "kind", "status"),
        sa.CheckConstraint("status IN ('aperta','chiusa')", name="status"),
    )

    @property
    def kind_label(self) -> str:
        return ANOMALY_KINDS.get(self.kind, self.kind)


class Refund(CreatedMixin, Base):
    """Money to give back (an overpayment, a payment with no debt): da_rimborsare -> rimborsato."""

    __tablename__ = "payment_refunds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    payment_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("payments.id"), index=True)
    taxpayer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("taxpayers.id"))
    amount_cents: Mapped[int] = mapped_column(Cents)
    reason: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(14), default="da_rimborsare")
    refunded_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    refunded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    refunded_label: Mapped[str | None] = mapped_column(sa.String(120))
    reference: Mapped[str | None] = mapped_column(sa.String(100))  # CRO / TRN of the refund transfer
    note: Mapped[str | None] = mapped_column(sa.String(500))

    payment: Mapped[Payment] = relationship()

    __table_args__ = (
        sa.Index("ix_payment_refunds_ente_status", "ente_id", "status"),
        sa.CheckConstraint("amount_cents > 0", name="amount"),
        sa.CheckConstraint("status IN ('da_rimborsare','rimborsato','annullato')", name="status"),
    )


class BankCredit(CreatedMixin, Base):
    """A credit on the ente's treasury account (the SCT of riversamento of a PSP, a bank transfer batch)."""

    __tablename__ = "bank_credits"

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"), index=True)
    value_date: Mapped[dt.date] = mapped_column(sa.Date)
    amount_cents: Mapped[int] = mapped_column(Cents)
    reference: Mapped[str] = mapped_column(sa.String(100))  # TRN / identificativoUnivocoRegolamento
    causale: Mapped[str | None] = mapped_column(sa.String(300))
    flow_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment_flows.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (
        sa.UniqueConstraint("ente_id", "reference"),
        sa.CheckConstraint("amount_cents > 0", name="amount"),
    )


class Riversamento(CreatedMixin, Base):
    """A riversamento flow produced for the Regione (R-A14): CSV and XML (schemas/riversamento.xsd)."""

    __tablename__ = "riversamenti"

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"), index=True)
    period_from: Mapped[dt.date] = mapped_column(sa.Date)
    period_to: Mapped[dt.date] = mapped_column(sa.Date)
    allocations_count: Mapped[int] = mapped_column(default=0)
    total_cents: Mapped[int] = mapped_column(Cents, default=0)
    unallocated_cents: Mapped[int] = mapped_column(Cents, default=0)
    # The two documents live in the content-addressed file store (app.jobs.files): path = f(sha256).
    csv_sha256: Mapped[str] = mapped_column(sa.String(64))
    csv_path: Mapped[str] = mapped_column(sa.String(200), info={STORED_FILE: True})
    xml_sha256: Mapped[str] = mapped_column(sa.String(64))
    xml_path: Mapped[str] = mapped_column(sa.String(200), info={STORED_FILE: True})
    xml_validated: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(sa.String(120), default="")

    ente = relationship("Ente")


# Who sees what (app.core.access): every row of the payments module belongs to the ente it was paid to.
# Taxpayer accounts see none of them (no `taxpayer` rule): a payment's taxpayer is a guess until matched.
for _model in (
    NoticeNumber,
    NoticeCounter,
    PaymentFlow,
    Payment,
    Allocation,
    Accrual,
    ReviewItem,
    Anomaly,
    Refund,
    BankCredit,
    Riversamento,
):
    register_scope(_model, ente=_model.ente_id)
