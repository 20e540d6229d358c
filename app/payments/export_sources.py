"""The payments' list exports as sources of the one export mechanism (app/reports/export_jobs.py): each
rebuilds its statement from JSON parameters and the user's scope, so the same function serves the download in
the request and the job of a large export (a flow's payments, the review queue, anomalies, refunds, the
rendicontazione's totals, detail and unallocated payments)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.db import count_rows
from app.payments import queries, reports
from app.payments.models import (
    ANOMALY_KINDS,
    ANOMALY_STATUSES,
    MATCH_METHODS,
    OUTCOME_CODES,
    PAYMENT_STATUSES,
    REFUND_STATUSES,
)
from app.reports.export_jobs import from_statement
from app.reports.exports import Column, ExportSpec

Export = tuple[ExportSpec, Iterable[Any], Callable[[], int]]

PAYMENTS_SPEC = [
    Column("id_pagamento", "Id pagamento / IUR"),
    Column("data_pagamento", "Data", "date"),
    Column("importo_cents", "Importo", "money"),
    Column("eccedenza_cents", "Eccedenza", "money"),
    Column("codice_avviso", "Codice avviso"),
    Column("iuv", "IUV"),
    Column("esito", "Esito", labels=OUTCOME_CODES),
    Column("codice_fiscale", "Codice fiscale"),
    Column("causale", "Causale", width=40),
    Column("canale", "Canale"),
    Column("stato", "Stato", labels=PAYMENT_STATUSES),
    Column("abbinamento", "Abbinamento", labels=MATCH_METHODS),
    Column("id_posizione", "Id posizione"),
]

REVIEW_SPEC = ExportSpec(
    title="Coda di revisione dei pagamenti",
    filename_stem="coda_revisione",
    columns=(
        Column("payment", "Pagamento"),
        Column("paid_date", "Data", "date"),
        Column("amount_cents", "Importo", "money"),
        Column("codice_fiscale", "Codice fiscale"),
        Column("causale", "Causale", width=40),
        Column("suggested", "Proposta"),
        Column("score", "Punteggio", "int"),
    ),
    totals=("amount_cents",),
)

ANOMALY_SPEC_COLUMNS = [
    Column("id", "N.", "int", grouping=False),
    Column("tipo", "Tipo", labels=ANOMALY_KINDS),
    Column("stato", "Stato", labels=ANOMALY_STATUSES),
    Column("rilevata", "Rilevata il", "datetime"),
    Column("ente", "Ente"),
    Column("flusso", "Flusso", "int", grouping=False),
    Column("id_pagamento", "Id pagamento"),
    Column("data_pagamento", "Data pagamento", "date"),
    Column("id_posizione", "Posizione"),
    Column("importo_cents", "Importo", "money"),
    Column("atteso_cents", "Atteso", "money"),
    Column("dettaglio", "Dettaglio", width=40),
    Column("chiusa_da", "Chiusa da"),
    Column("chiusa_il", "Chiusa il", "datetime"),
    Column("nota", "Nota", width=30),
]

REFUND_COLUMNS = [
    Column("id", "N.", "int", grouping=False),
    Column("stato", "Stato", labels=REFUND_STATUSES),
    Column("creato", "Creato il", "datetime"),
    Column("ente", "Ente"),
    Column("id_pagamento", "Id pagamento"),
    Column("data_pagamento", "Data pagamento", "date"),
    Column("canale", "Canale"),
    Column("codice_fiscale", "Codice fiscale"),
    Column("beneficiario", "Beneficiario"),
    Column("importo_cents", "Importo", "money"),
    Column("motivo", "Motivo", width=36),
    Column("rimborsato_da", "Rimborsato da"),
    Column("rimborsato_il", "Rimborsato il", "datetime"),
    Column("riferimento", "Riferimento"),
]


def flow_payments(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    flow = queries.get_flow(session, principal, params["flow_id"])
    status = params.get("status")
    spec = ExportSpec(
        title=f"Pagamenti del flusso {flow.identifier}"
        + (f" – {PAYMENT_STATUSES.get(status, status)}" if status else ""),
        filename_stem=f"pagamenti_flusso_{flow.id}",
        columns=PAYMENTS_SPEC,
        totals=["importo_cents", "eccedenza_cents"],
    )
    return from_statement(session, spec, queries.payments_stmt(principal, flow_id=flow.id, status=status))


def review_queue(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    """The whole open review queue (every page)."""
    stmt = queries.reviews_stmt(principal)

    def rows() -> Iterator[dict[str, Any]]:
        for review, payment, suggested in session.execute(stmt.execution_options(yield_per=1000)):
            yield {
                "payment": payment.external_id,
                "paid_date": payment.paid_date,
                "amount_cents": payment.amount_cents,
                "codice_fiscale": payment.codice_fiscale or "",
                "causale": payment.causale or "",
                "suggested": suggested or "",
                "score": review.score,
            }

    return REVIEW_SPEC, rows(), lambda: count_rows(session, stmt)


def anomalies(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    spec = ExportSpec(
        title=ANOMALY_KINDS.get(params.get("kind") or "", "Anomalie dei pagamenti"),
        filename_stem="anomalie_pagamenti",
        columns=ANOMALY_SPEC_COLUMNS,
        totals=["importo_cents"],
    )
    stmt = queries.anomalies_stmt(principal, kind=params.get("kind"), status=params.get("status"))
    return from_statement(session, spec, stmt)


def refunds(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    spec = ExportSpec(
        title="Rimborsi", filename_stem="rimborsi", columns=REFUND_COLUMNS, totals=["importo_cents"]
    )
    return from_statement(session, spec, queries.refunds_stmt(principal, status=params.get("status")))


def collected(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    """The rendicontazione's totals (`Filters.as_args()` + `per`, the grouping)."""
    filters = reports.Filters.from_args(params)
    grouping = reports.grouping_of(params.get("per") or [])
    spec = reports.collected_spec(grouping, filters)
    return from_statement(session, spec, reports.collected_stmt(principal, grouping, filters))


def collected_detail(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    stmt = reports.detail_stmt(principal, reports.Filters.from_args(params))
    return from_statement(session, reports.DETAIL_SPEC, stmt)


def unallocated(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    stmt = reports.unallocated_stmt(principal, reports.Filters.from_args(params))
    return from_statement(session, reports.UNALLOCATED_SPEC, stmt)
