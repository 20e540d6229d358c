"""The audit trail and the card access log, read-only (/registro/eventi, /registro/accessi), with exports."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from app.accountability import exports, forms, queries
from app.accountability.exports import ACTION_LABELS
from app.accountability.queries import TrailFilters
from app.core.access import current_principal, permission_required
from app.core.audit import EVENT_KINDS
from app.core.query_forms import valid_query
from app.enti import queries as enti_queries
from app.extensions import db
from app.reports.exports import FORMATS
from app.reports.routes import export_list

bp = Blueprint("accountability", __name__, url_prefix="/registro")


def _filters(form: Any) -> TrailFilters:
    return TrailFilters(
        kind=getattr(form, "tipo", None) and form.tipo.data or None,
        ente_id=getattr(form, "ente", None) and form.ente.data or None,
        username=form.utente.data or None,
        codice_fiscale=form.cf.data or None,
        date_from=form.dal.data,
        date_to=form.al.data,
    )


def _params(form: Any) -> dict[str, str]:
    """The filters as query parameters (pagination and export links keep them)."""
    return {
        name: (field.data.isoformat() if hasattr(field.data, "isoformat") else str(field.data))
        for name, field in form._fields.items()
        if name != "pagina" and field.data not in (None, "")
    }


@bp.route("/eventi")
@permission_required("audit.read")
def events() -> Any:
    form = valid_query(forms.EventFilters(request.args), shown_on_form=("dal", "al"))
    principal = current_principal()
    result = queries.list_events(db.session, principal, _filters(form), page=form.pagina.data or 1)
    return render_template(
        "accountability/events.html",
        form=form,
        result=result,
        names=queries.names(db.session, result.items),
        kinds=EVENT_KINDS,
        enti=[e for e in enti_queries.list_enti(db.session) if e.id in principal.ente_ids],
        params=_params(form),
        formats=FORMATS,
    )


@bp.route("/eventi/export.<fmt>")
@permission_required("audit.read")
def events_export(fmt: str) -> Any:
    form = valid_query(forms.EventFilters(request.args))
    return export_list(exports.events, fmt, _filters(form).as_args())


@bp.route("/accessi")
@permission_required("audit.read")
def accesses() -> Any:
    form = valid_query(forms.AccessFilters(request.args), shown_on_form=("dal", "al"))
    result = queries.list_accesses(
        db.session, current_principal(), _filters(form), page=form.pagina.data or 1
    )
    return render_template(
        "accountability/accesses.html",
        form=form,
        result=result,
        names=queries.names(db.session, result.items),
        actions=ACTION_LABELS,
        params=_params(form),
        formats=FORMATS,
    )


@bp.route("/accessi/export.<fmt>")
@permission_required("audit.read")
def accesses_export(fmt: str) -> Any:
    form = valid_query(forms.AccessFilters(request.args))
    return export_list(exports.accesses, fmt, _filters(form).as_args())
