"""The audit trail and the card access log, read-only (/registro/eventi, /registro/accessi), with exports."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from app.accountability import forms, queries
from app.accountability.queries import TrailFilters
from app.core.access import current_principal, permission_required
from app.core.audit import EVENT_KINDS
from app.core.query_forms import valid_query
from app.enti import queries as enti_queries
from app.extensions import db
from app.reports.exports import FORMATS, Column, ExportSpec, export_response

bp = Blueprint("accountability", __name__, url_prefix="/registro")

ACTION_LABELS = {
    "card": "Scheda contribuente",
    "card_payments": "Pagamenti della scheda",
    "card_documents": "Documenti della scheda",
    "archive_document": "Documento dell'archivio",
    "quietanza_pdf": "Quietanza (PDF)",
    "api_positions": "API: posizioni",
    "self_service": "Pagina del contribuente",
    "export_csv": "Esportazione CSV",
    "export_xlsx": "Esportazione XLSX",
    "export_ods": "Esportazione ODS",
    "export_pdf": "Esportazione PDF",
    "export_xml": "Esportazione XML",
}
EVENTS_SPEC = ExportSpec(
    title="Registro degli eventi",
    filename_stem="registro_eventi",
    columns=[
        Column("occurred_dt", "Quando", "datetime"),
        Column("kind", "Evento", width=30),
        Column("summary", "Descrizione", width=50),
        Column("actor", "Chi", width=24),
        Column("ente", "Ente"),
        Column("codice_fiscale", "Contribuente", width=18),
        Column("position_id", "Posizione (id)", "int", grouping=False),
    ],
)
ACCESS_SPEC = ExportSpec(
    title="Registro degli accessi alle schede",
    filename_stem="registro_accessi",
    columns=[
        Column("accessed_dt", "Quando", "datetime"),
        Column("user", "Chi", width=24),
        Column("action", "Che cosa", width=24, labels=ACTION_LABELS),
        Column("codice_fiscale", "Contribuente", width=18),
        Column("remote_addr", "Indirizzo", width=18),
    ],
)


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
    return export_response(
        queries.event_rows(db.session, current_principal(), _filters(form)), EVENTS_SPEC, fmt
    )


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
    return export_response(
        queries.access_rows(db.session, current_principal(), _filters(form)), ACCESS_SPEC, fmt
    )
