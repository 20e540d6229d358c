"""The query builder's results as a source of the one export mechanism (app/reports/export_jobs.py): the
query travels as JSON (`spec_params`) and is planned again with the user's scope, so the same function serves
the download in the request and the job of a large export."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import Session

from app.analytics import builder
from app.core.access import Principal
from app.core.db import count_rows
from app.reports.exports import ExportSpec


def spec_params(spec: builder.QuerySpec) -> dict[str, Any]:
    return {
        "dataset": spec.dataset,
        "columns": list(spec.columns),
        "group": list(spec.group),
        "measures": list(spec.measures),
        "filters": [list(f) for f in spec.filters],
    }


def query_results(
    session: Session, principal: Principal, params: dict[str, Any]
) -> tuple[ExportSpec, Iterable[Any], Callable[[], int]]:
    spec = builder.QuerySpec(
        dataset=params["dataset"],
        columns=tuple(params.get("columns") or ()),
        group=tuple(params.get("group") or ()),
        measures=tuple(params.get("measures") or ()),
        filters=tuple(tuple(f) for f in params.get("filters") or ()),  # type: ignore[misc]
    )
    plan = builder.plan(spec, principal)
    return plan.export_spec(), plan.rows(session), lambda: count_rows(session, plan.statement)
