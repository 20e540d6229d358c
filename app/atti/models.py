"""Acts issued to taxpayers (R-A2, R-A3, R-A12): act types as data, Typst templates per ente + entrata + type
with versions and validity dates (R-A19), the issued `Act` (an immutable PDF filed in the archive) and mass
issuance campaigns with their selected positions.

The notification side (sent / notified / not notified, channel, dates) is written by `app/atti/delivery`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.access import register_scope, through
from app.core.db import Base, Cents, CreatedMixin, JsonDoc, UTCDateTime

ACT_STATUSES: dict[str, str] = {
    "emesso": "Emesso",
    "inviato": "Inviato",
    "notificato": "Notificato",
    "non_notificato": "Non notificato",
}
CAMPAIGN_STATUSES: dict[str, str] = {
    "bozza": "Bozza",
    "da_approvare": "In attesa di approvazione",
    "approvata": "Approvata",
    "in_corso": "In corso",
    "sospesa": "Sospesa",
    "completata": "Completata",
    "annullata": "Annullata",
}
ITEM_STATUSES: dict[str, str] = {
    "da_emettere": "Da emettere",
    "esclusa": "Esclusa",
    "emessa": "Emessa",
    "errore": "Errore",
}


def _in(column: str, values: dict[str, str]) -> str:
    return f"{column} IN ({','.join(repr(v) for v in values)})"


class ActType(Base):
    """A kind of act (ingiunzione, sollecito...): national data seeded from app/atti/catalog.py. What it does
    to the position when notified (`operation`, `target_state` of app/engine/states.py), whether it interrupts
    prescription, and which parameter row carries its payment term (`term_parameter`, days)."""

    __tablename__ = "act_types"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    legal_basis: Mapped[str] = mapped_column(sa.Text)  # citations of the legal acts, shown to users
    attachments: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    operation: Mapped[str | None] = mapped_column(sa.String(40))  # app.engine.states OPERATIONS
    target_state: Mapped[str | None] = mapped_column(sa.String(24))  # the state on notification
    interrupts_prescription: Mapped[bool] = mapped_column(default=True)
    term_parameter: Mapped[str | None] = mapped_column(sa.String(60))  # Parameter code, value {"days": n}
    with_payment: Mapped[bool] = mapped_column(default=True)  # carries the pagoPA notice
    sort_order: Mapped[int] = mapped_column(sa.SmallInteger, default=0)


class ActTemplate(CreatedMixin, Base):
    """The Typst text of one act type for an ente (and optionally one entrata): rows are never edited, an edit
    is a new version; the version in force on the issue date is the one with the latest `valid_from`
    (entrata's own before the ente's generic one). Issued acts keep their PDF, never re-rendered."""

    __tablename__ = "act_templates"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    entrata_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entrate.id"))
    act_type_id: Mapped[int] = mapped_column(sa.ForeignKey("act_types.id"))
    version: Mapped[int] = mapped_column(sa.Integer)
    source: Mapped[str] = mapped_column(sa.Text)  # Typst markup of the act's text (the layout wraps it)
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    author_label: Mapped[str] = mapped_column(sa.String(120))
    note: Mapped[str | None] = mapped_column(sa.String(500))

    act_type: Mapped[ActType] = relationship()
    entrata = relationship("Entrata")

    __table_args__ = (
        sa.Index("ix_act_templates_lookup", "ente_id", "act_type_id", "entrata_id", "valid_from"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_range"),
    )


class Campaign(CreatedMixin, Base):
    """A mass issuance: criteria, the positions chosen (`CampaignItem`), approval, the job that renders."""

    __tablename__ = "act_campaigns"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"), index=True)
    act_type_id: Mapped[int] = mapped_column(sa.ForeignKey("act_types.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    criteria: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    issue_date: Mapped[dt.date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(16), default="bozza")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_label: Mapped[str] = mapped_column(sa.String(120))
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_by_label: Mapped[str | None] = mapped_column(sa.String(120))
    approved_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batch_jobs.id"))
    summary: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)  # counts and totals of the preview

    act_type: Mapped[ActType] = relationship()
    ente = relationship("Ente")

    __table_args__ = (sa.CheckConstraint(_in("status", CAMPAIGN_STATUSES), name="status"),)

    @property
    def status_label(self) -> str:
        return CAMPAIGN_STATUSES.get(self.status, self.status)


class CampaignItem(Base):
    """One position of a campaign: to issue, excluded (with the reason), issued (its act) or failed."""

    __tablename__ = "act_campaign_items"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("act_campaigns.id"))
    position_id: Mapped[int] = mapped_column(sa.ForeignKey("positions.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(12), default="da_emettere")
    reason: Mapped[str | None] = mapped_column(sa.String(300))
    amount_cents: Mapped[int | None] = mapped_column(Cents)
    # taken from the ente's register at approval (D.P.R. 445/2000: a number of an act that then fails stays
    # in the register, annulled with the reason, art. 54)
    protocol: Mapped[str | None] = mapped_column(sa.String(40))
    act_id: Mapped[int | None] = mapped_column(sa.ForeignKey("acts.id"))

    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "position_id"),
        sa.CheckConstraint(_in("status", ITEM_STATUSES), name="status"),
        sa.Index("ix_act_campaign_items_campaign_status", "campaign_id", "status", "id"),
    )

    @property
    def status_label(self) -> str:
        return ITEM_STATUSES.get(self.status, self.status)


class Act(CreatedMixin, Base):
    """An issued act: its PDF is the archive document `document_id` (never re-rendered), its protocol the
    document's (the ente's gap-free register), its amount the amount due on `issue_date`
    (app/positions/amounts.py) with the breakdown shown in the PDF."""

    __tablename__ = "acts"
    __versioned__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    ente_id: Mapped[int] = mapped_column(sa.ForeignKey("enti.id"))
    entrata_id: Mapped[int] = mapped_column(sa.ForeignKey("entrate.id"))
    position_id: Mapped[int] = mapped_column(sa.ForeignKey("positions.id"), index=True)
    taxpayer_id: Mapped[int] = mapped_column(sa.ForeignKey("taxpayers.id"), index=True)
    act_type_id: Mapped[int] = mapped_column(sa.ForeignKey("act_types.id"))
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("act_templates.id"))
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("act_campaigns.id"))
    issue_date: Mapped[dt.date] = mapped_column(sa.Date)
    protocol: Mapped[str] = mapped_column(sa.String(40), unique=True)
    protocol_date: Mapped[dt.date] = mapped_column(sa.Date)
    notice_number: Mapped[str | None] = mapped_column(sa.String(18), index=True)
    amount_due_cents: Mapped[int] = mapped_column(Cents)
    breakdown: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"))
    pages: Mapped[int] = mapped_column(sa.SmallInteger, default=1)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default="emesso")
    # notification (written by app/atti/delivery)
    sent_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    channel: Mapped[str | None] = mapped_column(sa.String(16))  # posta | pec | send
    notified_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    notification_outcome: Mapped[str | None] = mapped_column(sa.String(30))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_label: Mapped[str] = mapped_column(sa.String(120))

    act_type: Mapped[ActType] = relationship()
    template: Mapped[ActTemplate] = relationship()
    position = relationship("Position")
    taxpayer = relationship("Taxpayer")
    ente = relationship("Ente")

    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "position_id"),
        sa.CheckConstraint(_in("status", ACT_STATUSES), name="status"),
        sa.Index("ix_acts_ente_issue", "ente_id", "issue_date", "id"),
    )

    @property
    def status_label(self) -> str:
        return ACT_STATUSES.get(self.status, self.status)


# Who sees what (app.core.access): templates and campaigns belong to their ente; an act to its ente and its
# taxpayer; a campaign's item to its campaign (and through the position to the taxpayer).
register_scope(ActTemplate, ente=ActTemplate.ente_id)
register_scope(Campaign, ente=Campaign.ente_id)
register_scope(CampaignItem, ente=through(CampaignItem.campaign_id),
               taxpayer=through(CampaignItem.position_id))
register_scope(Act, ente=Act.ente_id, taxpayer=Act.taxpayer_id)
