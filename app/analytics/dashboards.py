"""The dashboards: panels of server-side aggregates, each a chart and the table of the same figures.

A :class:`Panel` carries its rows (money in integer cents, rates as ``Decimal`` fractions), the columns of its
table (the export mechanism's :class:`~app.reports.exports.Column`), and which columns its chart draws. The
page (Chart.js), the table, the per-panel exports and the PDF (Typst bars) read the same panel.

Where the figures come from:

| panel              | source                                                                   |
|--------------------|--------------------------------------------------------------------------|
| carico_riscosso    | the materialised summary (`summary.py`), by entrata and year             |
| tasso              | the summary, by entrata: collected / (carico - abated)                   |
| anzianita          | the summary, outstanding by ageing bucket                                |
| atti               | acts issued and notified per month (live: `acts`, the last 12 months)     |
| contatti           | contacts by channel (live: `contacts`, the last 12 months)                |
| assistenza         | tickets opened, resolved, resolved within SLA per month (live)           |
| providers          | any slice registers more with :func:`register_panel_provider` (procedures) |

Every query goes through `app.core.access.scoped` with the principal narrowed to the chosen ente.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.analytics.models import PositionSummary
from app.analytics.summary import AGE_BUCKETS
from app.core.access import Principal, scoped
from app.enti.models import Entrata
from app.reports.exports import Column, ExportSpec

RATE_QUANTUM = Decimal("0.0001")  # a rate shown as 12,34%
MONTHS_SHOWN = 12


@dataclass(frozen=True, slots=True)
class Panel:
    """One chart and its table. ``label_key`` names the column the chart's categories come from (a list of
    keys joined with a space); ``series`` the numeric columns it draws."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    label_keys: tuple[str, ...]
    series: tuple[str, ...]
    note: str = ""
    totals: tuple[str, ...] = field(default=())

    def spec(self) -> ExportSpec:
        return ExportSpec(
            title=self.title, columns=self.columns, filename_stem=f"cruscotto_{self.key}", totals=self.totals
        )

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def labels(self) -> list[str]:
        out = []
        for row in self.rows:
            parts = []
            for key in self.label_keys:
                value = row.get(key)
                column = self.column(key)
                parts.append(
                    ""
                    if value is None
                    else (column.display(value) if column.kind != "text" or column.labels else str(value))
                )
            out.append(" ".join(p for p in parts if p))
        return out

    def chart(self) -> dict[str, Any]:
        """The chart's JSON (no floats: money in cents, rates in basis points; the script scales them)."""
        kinds = {self.column(key).kind for key in self.series}
        unit = "money" if "money" in kinds else ("percent" if "percent" in kinds else "int")
        series = []
        for key in self.series:
            column = self.column(key)
            values = []
            for row in self.rows:
                value = row.get(key)
                if value is None:
                    values.append(None)
                elif column.kind == "percent":
                    values.append(int((Decimal(value) * 10000).to_integral_value(ROUND_HALF_UP)))
                else:
                    values.append(int(value))
            series.append({"label": column.header, "data": values})
        return {"type": "bar", "unit": unit, "title": self.title, "labels": self.labels(), "series": series}


# --- providers ------------------------------------------------------------------------------------------

PanelProvider = Callable[[Session, Principal], "Panel | None"]
_PROVIDERS: dict[str, PanelProvider] = {}


def register_panel_provider(key: str, provider: PanelProvider) -> None:
    """Add a panel to every dashboard (e.g. the procedures slice: procedures by kind and state). The provider
    gets the session and the (ente-narrowed) principal and returns a Panel, or None when it has nothing."""
    if key in _PROVIDERS:
        raise ValueError(f"panel provider {key!r} registered twice")
    _PROVIDERS[key] = provider


def registered_providers() -> dict[str, PanelProvider]:
    return dict(_PROVIDERS)


# --- the dashboard --------------------------------------------------------------------------------------


def narrowed(principal: Principal, ente_id: int | None) -> Principal:
    """The principal limited to one of its enti (None: all of them; an ente out of scope: none)."""
    if ente_id is None:
        return principal
    return dataclasses.replace(principal, ente_ids=principal.ente_ids & {ente_id})


def build_dashboard(
    session: Session, principal: Principal, *, ente_id: int | None = None, today: dt.date | None = None
) -> list[Panel]:
    today = today or dt.date.today()
    who = narrowed(principal, ente_id)
    panels = [
        carico_riscosso(session, who),
        collection_rate(session, who),
        ageing(session, who),
        acts_panel(session, who, today),
        contacts_panel(session, who, today),
        helpdesk_panel(session, who, today),
    ]
    for provider in _PROVIDERS.values():
        panel = provider(session, who)
        if panel is not None:
            panels.append(panel)
    return panels


def panel_by_key(panels: Sequence[Panel], key: str) -> Panel | None:
    return next((p for p in panels if p.key == key), None)


def _summary(principal: Principal, *group: Any) -> sa.Select:
    stmt = sa.select(
        *group,
        sa.func.sum(PositionSummary.positions).label("posizioni"),
        sa.func.sum(PositionSummary.carico_cents).label("carico"),
        sa.func.sum(PositionSummary.sgravio_cents).label("sgravi"),
        sa.func.sum(PositionSummary.collected_cents).label("riscosso"),
        sa.func.sum(PositionSummary.outstanding_cents).label("residuo"),
    ).select_from(PositionSummary)
    return scoped(stmt, PositionSummary, principal)


_MONEY_COLUMNS = (
    Column("posizioni", "Posizioni", "int"),
    Column("carico", "Carico", "money"),
    Column("sgravi", "Sgravi", "money"),
    Column("riscosso", "Riscosso", "money"),
    Column("residuo", "Residuo", "money"),
)
_MONEY_TOTALS = ("posizioni", "carico", "sgravi", "riscosso", "residuo")


def _ints(row: Any, *keys: str) -> dict[str, int]:
    return {key: int(row[key] or 0) for key in keys}


def carico_riscosso(session: Session, principal: Principal) -> Panel:
    stmt = (
        _summary(
            principal,
            Entrata.code.label("entrata"),
            Entrata.name.label("entrata_nome"),
            PositionSummary.year.label("anno"),
        )
        .join(Entrata, Entrata.id == PositionSummary.entrata_id)
        .group_by(Entrata.code, Entrata.name, PositionSummary.year)
        .order_by(Entrata.code, PositionSummary.year)
    )
    rows = [
        {
            "entrata": r["entrata"],
            "entrata_nome": r["entrata_nome"],
            "anno": r["anno"],
            **_ints(r, *_MONEY_TOTALS),
        }
        for r in session.execute(stmt).mappings()
    ]
    return Panel(
        key="carico_riscosso",
        title="Carico e riscosso per entrata e anno",
        columns=(
            Column("entrata", "Entrata"),
            Column("entrata_nome", "Descrizione"),
            Column("anno", "Anno", "int", grouping=False),
            *_MONEY_COLUMNS,
        ),
        rows=rows,
        label_keys=("entrata", "anno"),
        series=("carico", "riscosso"),
        totals=_MONEY_TOTALS,
    )


def rate(collected: int, carico: int, sgravi: int) -> Decimal | None:
    """Collected over the net carico, as a fraction rounded half-up to 4 decimals (None: nothing loaded)."""
    net = carico - sgravi
    if net <= 0:
        return None
    return (Decimal(collected) / Decimal(net)).quantize(RATE_QUANTUM, ROUND_HALF_UP)


def collection_rate(session: Session, principal: Principal) -> Panel:
    stmt = (
        _summary(principal, Entrata.code.label("entrata"), Entrata.name.label("entrata_nome"))
        .join(Entrata, Entrata.id == PositionSummary.entrata_id)
        .group_by(Entrata.code, Entrata.name)
        .order_by(Entrata.code)
    )
    rows = []
    for r in session.execute(stmt).mappings():
        figures = _ints(r, "carico", "sgravi", "riscosso")
        rows.append(
            {
                "entrata": r["entrata"],
                "entrata_nome": r["entrata_nome"],
                **figures,
                "tasso": rate(figures["riscosso"], figures["carico"], figures["sgravi"]),
            }
        )
    return Panel(
        key="tasso",
        title="Tasso di riscossione per entrata",
        columns=(
            Column("entrata", "Entrata"),
            Column("entrata_nome", "Descrizione"),
            Column("carico", "Carico", "money"),
            Column("sgravi", "Sgravi", "money"),
            Column("riscosso", "Riscosso", "money"),
            Column("tasso", "Tasso di riscossione", "percent"),
        ),
        rows=rows,
        label_keys=("entrata",),
        series=("tasso",),
        note="Riscosso (al netto dei rimborsi) diviso per il carico al netto degli sgravi.",
    )


def ageing(session: Session, principal: Principal) -> Panel:
    stmt = (
        _summary(principal, PositionSummary.age_bucket.label("bucket"))
        .group_by(PositionSummary.age_bucket)
        .order_by(PositionSummary.age_bucket)
    )
    found = {r["bucket"]: r for r in session.execute(stmt).mappings()}
    rows = []
    for index, (_, label) in enumerate(AGE_BUCKETS):
        r = found.get(index)
        rows.append(
            {
                "fascia": label,
                "posizioni": int(r["posizioni"] or 0) if r else 0,
                "residuo": int(r["residuo"] or 0) if r else 0,
            }
        )
    return Panel(
        key="anzianita",
        title="Anzianità del residuo (dalla scadenza)",
        columns=(
            Column("fascia", "Fascia"),
            Column("posizioni", "Posizioni", "int"),
            Column("residuo", "Residuo", "money"),
        ),
        rows=rows,
        label_keys=("fascia",),
        series=("residuo",),
        totals=("posizioni", "residuo"),
    )


def month_keys(today: dt.date, count: int = MONTHS_SHOWN) -> list[str]:
    """The last `count` months as "YYYY-MM", oldest first, the current one included."""
    year, month = today.year, today.month
    keys = []
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return keys[::-1]


def _month_start(key: str) -> dt.date:
    return dt.date(int(key[:4]), int(key[5:]), 1)


def _month_label(key: str) -> str:
    from app.reports.formatting import format_month_it

    return format_month_it(key)


def _daily(
    session: Session, principal: Principal, entity: Any, column: Any, since: Any, *where: Any
) -> dict[str, int]:
    """Counts per month of a date(time) column, grouped by day in SQL (portable) and folded here."""
    day = (
        sa.func.date(column)
        if isinstance(column.type, sa.DateTime) or hasattr(column.type, "impl")
        else column
    )
    stmt = scoped(
        sa.select(day, sa.func.count()).select_from(entity).where(column >= since, *where), entity, principal
    ).group_by(day)
    out: dict[str, int] = {}
    for value, count in session.execute(stmt):
        if value is None:
            continue
        if isinstance(value, str):
            value = dt.date.fromisoformat(value[:10])
        key = f"{value.year:04d}-{value.month:02d}"
        out[key] = out.get(key, 0) + int(count)
    return out


def acts_panel(session: Session, principal: Principal, today: dt.date) -> Panel:
    from app.atti.models import Act

    months = month_keys(today)
    since = _month_start(months[0])
    issued = _daily(session, principal, Act, Act.issue_date, since)
    notified = _daily(session, principal, Act, Act.notified_date, since)
    rows = [
        {"mese": _month_label(m), "emessi": issued.get(m, 0), "notificati": notified.get(m, 0)}
        for m in months
    ]
    return Panel(
        key="atti",
        title="Atti emessi e notificati per mese",
        columns=(
            Column("mese", "Mese"),
            Column("emessi", "Emessi", "int"),
            Column("notificati", "Notificati", "int"),
        ),
        rows=rows,
        label_keys=("mese",),
        series=("emessi", "notificati"),
        totals=("emessi", "notificati"),
        note="Notificati: atti con data di notifica nel mese.",
    )


def contacts_panel(session: Session, principal: Principal, today: dt.date) -> Panel:
    from app.crm.contacts.models import CHANNELS, Contact

    since = dt.datetime.combine(_month_start(month_keys(today)[0]), dt.time(), tzinfo=dt.UTC)
    stmt = (
        scoped(
            sa.select(
                Contact.channel, sa.func.count(), sa.func.coalesce(sa.func.sum(Contact.duration_seconds), 0)
            )
            .select_from(Contact)
            .where(Contact.started_dt >= since),
            Contact,
            principal,
        )
        .group_by(Contact.channel)
        .order_by(Contact.channel)
    )
    rows = [
        {"canale": channel, "contatti": int(count), "minuti": int(seconds) // 60}
        for channel, count, seconds in session.execute(stmt)
    ]
    return Panel(
        key="contatti",
        title="Contatti per canale (ultimi 12 mesi)",
        columns=(
            Column("canale", "Canale", labels=dict(CHANNELS)),
            Column("contatti", "Contatti", "int"),
            Column("minuti", "Durata totale (minuti)", "int"),
        ),
        rows=rows,
        label_keys=("canale",),
        series=("contatti",),
        totals=("contatti", "minuti"),
    )


def helpdesk_panel(session: Session, principal: Principal, today: dt.date) -> Panel:
    from app.helpdesk.models import Ticket

    months = month_keys(today)
    since = dt.datetime.combine(_month_start(months[0]), dt.time(), tzinfo=dt.UTC)
    opened = _daily(session, principal, Ticket, Ticket.opened_dt, since)
    resolved = _daily(session, principal, Ticket, Ticket.resolved_dt, since)
    in_sla = _daily(
        session, principal, Ticket, Ticket.resolved_dt, since, Ticket.resolution_late_minutes.is_(None)
    )
    rows = []
    for m in months:
        done = resolved.get(m, 0)
        within = in_sla.get(m, 0)
        share = (Decimal(within) / Decimal(done)).quantize(RATE_QUANTUM, ROUND_HALF_UP) if done else None
        rows.append(
            {
                "mese": _month_label(m),
                "aperte": opened.get(m, 0),
                "risolte": done,
                "entro_sla": within,
                "quota_sla": share,
            }
        )
    return Panel(
        key="assistenza",
        title="Assistenza: segnalazioni e rispetto dello SLA di risoluzione",
        columns=(
            Column("mese", "Mese"),
            Column("aperte", "Aperte", "int"),
            Column("risolte", "Risolte", "int"),
            Column("entro_sla", "Risolte entro SLA", "int"),
            Column("quota_sla", "Quota entro SLA", "percent"),
        ),
        rows=rows,
        label_keys=("mese",),
        series=("aperte", "risolte", "entro_sla"),
        totals=("aperte", "risolte", "entro_sla"),
    )
