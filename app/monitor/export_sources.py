"""The exports of the searches and visure as sources of the one export mechanism (app/reports/export_jobs.py):
each rebuilds its statement from JSON parameters (the filters' `as_args()`) and the user's scope, so the same
function serves the download in the request and the job of a large export."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from app.core.access import Principal
from app.core.db import count_rows
from app.monitor import exports, searches, visure
from app.positions.amounts import with_amount_due
from app.reports.export_jobs import from_statement
from app.reports.exports import ExportSpec

Export = tuple[ExportSpec, Iterable[Any], Callable[[], int]]


def position_search(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    """The position search (`PositionSearch.as_args()` + `as_of`, the day the amounts due are computed at)."""
    stmt = searches.position_search_stmt(principal, searches.PositionSearch.from_args(params))
    as_of = dt.date.fromisoformat(params["as_of"])

    def rows() -> Iterator[dict[str, Any]]:
        found = (dict(r) for r in session.execute(stmt.execution_options(yield_per=1000)).mappings())
        yield from with_amount_due(session, found, as_of)

    return exports.POSITION_SEARCH_SPEC, rows(), lambda: count_rows(session, stmt)


def carico_totals(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    stmt = searches.carico_totals_stmt(
        principal, ente=params.get("ente"), entrata=params.get("entrata"), carico=params.get("carico")
    )
    return from_statement(session, exports.CARICO_TOTALS_SPEC, stmt)


def communications(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    stmt = visure.communications_stmt(principal, visure.ActFilters.from_args(params))
    return from_statement(session, exports.COMMUNICATIONS_SPEC, stmt)


def communication_acts(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    """The acts one by one (the campaign items of every procedure the user may see)."""
    stmt = visure.act_detail_stmt(principal, visure.ActFilters.from_args(params))
    return from_statement(session, exports.ACT_DETAIL_SPEC, stmt)


def collections(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    stmt = visure.payments_stmt(principal, visure.CollectionFilters.from_args(params))
    return from_statement(session, exports.PAYMENTS_SPEC, stmt)


def collection_totals(session: Session, principal: Principal, params: dict[str, Any]) -> Export:
    filters = visure.CollectionFilters.from_args(params)
    spec = exports.collected_spec(visure.COLLECTION_GROUPING, filters.report_filters())
    return from_statement(session, spec, visure.collection_totals_stmt(principal, filters))
