"""JSON REST API under /api/v1 for the Regione's systems (bearer tokens bound to one ente and scopes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, g, jsonify, request

from app.auth.services import touch_api_token
from app.core.access import Principal
from app.core.audit import log_access
from app.core.errors import error_response
from app.core.security import current_actor
from app.extensions import csrf, db
from app.positions.amounts import today_rome
from app.positions.services import positions_report
from app.taxpayers.identifiers import InvalidIdentifier

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, no cookies: CSRF does not apply


def token_required(scope: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            token = g.get("api_token")
            if token is None:
                return error_response(401, "Token mancante, revocato o non valido.")
            # its own small transaction, before the view: a GET commits nothing else, a failing view
            # rolls back only its own work
            if touch_api_token(db.session, token):
                db.session.commit()
            if scope not in token.scopes:
                return error_response(403, f"Il token non ha l'ambito «{scope}».")
            g.principal = Principal(
                role="regione", ente_ids=frozenset({token.ente_id}), api_token_id=token.id
            )
            return view(*args, **kwargs)

        return wrapped

    return decorator


@bp.get("/positions")
@token_required("positions:read")
def positions_by_taxpayer() -> Any:
    """The positions of one taxpayer (`?codice_fiscale=`), only those of the token's ente."""
    cf = request.args.get("codice_fiscale", "")
    try:
        report = positions_report(db.session, cf, as_of=today_rome(), principal=g.principal)
    except InvalidIdentifier as exc:
        return error_response(422, str(exc), {"field": "codice_fiscale"})
    log_access(
        db.session,
        current_actor(),
        "api_positions",
        taxpayer_id=None,
        remote_addr=request.remote_addr,
        detail={"codice_fiscale": cf.upper(), "results": len(report)},
    )
    db.session.commit()
    return jsonify(report)


@bp.get("/openapi.json")
def openapi() -> Any:
    from app.api.openapi import SPEC

    return jsonify(SPEC)


# --- the collection engine's calculator (formats.md §4): no personal data, no login, rate-limited ----------

ENGINE_LIMIT_PER_MINUTE = 120


def _engine_call(compute: Callable[[Any], dict[str, Any]]) -> Any:
    from app.core.ratelimit import allow
    from app.engine.wire import WireError

    if not allow("engine", request.remote_addr or "-", limit=ENGINE_LIMIT_PER_MINUTE):
        return error_response(429, "Troppe richieste al calcolatore: riprova tra un minuto.")
    payload = request.get_json(silent=True)
    if payload is None:
        return error_response(400, "Corpo della richiesta non valido: atteso un oggetto JSON.")
    try:
        return jsonify(compute(payload))
    except WireError as exc:
        return jsonify(exc.body()), exc.status


@bp.post("/engine/quote")
def engine_quote() -> Any:
    from app.positions.quotes import engine_quote as compute

    return _engine_call(lambda payload: compute(db.session, payload))


@bp.post("/engine/installment-plan")
def engine_installment_plan() -> Any:
    from app.positions.quotes import engine_installment_plan as compute

    return _engine_call(lambda payload: compute(db.session, payload, dt.date.today()))


@bp.post("/engine/deadlines")
def engine_deadlines() -> Any:
    from app.positions.quotes import engine_deadlines as compute

    return _engine_call(lambda payload: compute(db.session, payload, dt.date.today()))


@bp.get("/positions/<int:position_id>/quote")
@token_required("positions:read")
def position_quote(position_id: int) -> Any:
    """The amount due of a stored position at `as_of` (default today), computed from its ledger."""
    from app.positions.quotes import quote_position

    try:
        as_of = dt.date.fromisoformat(request.args.get("as_of") or dt.date.today().isoformat())
    except ValueError:
        return error_response(
            400, "Parametro 'as_of': data non valida, atteso AAAA-MM-GG.", {"field": "as_of"}
        )
    from app.engine.wire import WireError

    try:
        result = quote_position(db.session, g.principal, position_id, as_of)
    except WireError as exc:
        return jsonify(exc.body()), exc.status
    db.session.commit()
    return jsonify(result)


# --- liste di carico and variation flows from the Regione's systems (issue 4) ------------------------------


@bp.post("/carichi")
@token_required("carichi:write")
def carichi_upload() -> Any:
    """Multipart upload (`file`, `ente`, `entrata`, optional `layout`): queues an import job (202)."""
    from flask import current_app, url_for
    from werkzeug.exceptions import RequestEntityTooLarge

    from app.carichi import services as carichi_services
    from app.core.errors import Conflict, DomainError
    from app.enti.queries import get_ente_by_code
    from app.jobs.files import store_stream

    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    try:
        upload = request.files.get("file")
        form = request.form
    except RequestEntityTooLarge:
        size = f"{limit // 1048576} MB" if limit >= 1048576 else f"{limit // 1024} KB"
        return error_response(
            413, f"Il file supera il limite di caricamento di {size}.", {"max_bytes": limit}
        )
    if upload is None or not upload.filename:
        return error_response(
            400, "Campo «file» mancante: inviare il file in multipart/form-data.", {"field": "file"}
        )
    ente = get_ente_by_code(db.session, (form.get("ente") or "").strip().upper())
    if ente is None:
        return error_response(
            422, f"Ente sconosciuto: {form.get('ente') or '(mancante)'}.", {"field": "ente"}
        )
    if ente.id not in g.principal.ente_ids:
        return error_response(403, f"Il token non è abilitato per l'ente {ente.code}.", {"field": "ente"})
    try:
        target = carichi_services.resolve_target(
            db.session,
            ente_id=ente.id,
            entrata_code=form.get("entrata") or None,
            layout_name=form.get("layout") or None,
        )
        stored = store_stream(current_app.config["FILE_STORE"], upload.stream)
        job = carichi_services.create_import_job(db.session, current_actor(), target, stored, upload.filename)
    except Conflict as exc:
        db.session.rollback()
        return error_response(409, exc.message, exc.details)
    except DomainError as exc:
        db.session.rollback()
        return error_response(422, exc.message, exc.details)
    db.session.commit()
    return (
        jsonify({"job": job.id, "status": "queued"}),
        202,
        {"Location": url_for("api.job_status", job_id=job.id)},
    )


@bp.get("/jobs/<int:job_id>")
@token_required("jobs:read")
def job_status(job_id: int) -> Any:
    """Progress and outcome of a job of the token's ente."""
    from app.jobs.queries import get_job

    job = get_job(db.session, g.principal, job_id)
    if job is None:
        return error_response(404, "Elaborazione non trovata.")
    return jsonify(
        {
            "job": job.id,
            "kind": job.kind,
            "status": job.status,
            "phase": job.phase,
            "rows_done": job.rows_done,
            "rows_total": job.rows_total,
            "eta_seconds": job.eta_seconds,
            "result": job.result,
            "error": job.error_message,
            "created_dt": job.created_dt.isoformat(),
            "finished_dt": job.finished_dt.isoformat() if job.finished_dt else None,
        }
    )


@bp.post("/payment-flows")
@token_required("payments:write")
def payment_flows() -> Any:
    """Import and reconcile a payments flow (multipart `file`; optional `format` fdr|csv and `layout`).

    The flow's ente must be the token's ente. 201 with the summary of formats.md §5; 409 duplicate flow;
    422 invalid flow (nothing kept); 403 flow of another ente. With `Prefer: respond-async` (RFC 7240) the
    file is stored and a batch job queued instead: 202 with the job id, progress and summary from
    `GET /api/v1/jobs/<id>` (for large flows, which would not fit in one HTTP request)."""
    from flask import current_app, url_for

    from app.enti.models import Ente
    from app.payments.parsing import FlowRefused
    from app.payments.services import import_flow, queue_flow_import

    upload = request.files.get("file")
    if upload is None:
        return error_response(400, "Manca il file del flusso (campo multipart «file»).", {"field": "file"})
    fmt = request.form.get("format") or None
    if fmt not in (None, "fdr", "csv"):
        return error_response(422, "Formato non ammesso: usare fdr o csv.", {"field": "format"})
    ente = db.session.get(Ente, next(iter(g.principal.ente_ids)))
    layout = request.form.get("layout") or None
    if _prefers_async():
        from app.jobs.files import store_stream

        stored = store_stream(current_app.config["FILE_STORE"], upload.stream)
        job = queue_flow_import(
            db.session,
            current_actor(),
            g.principal,
            stored,
            upload.filename,
            fmt=fmt,
            layout=layout,
            ente_code=ente.code if ente else None,
            ente_id=ente.id if ente else None,
        )
        db.session.commit()
        return (
            jsonify({"job": job.id, "status": "queued"}),
            202,
            {"Location": url_for("api.job_status", job_id=job.id), "Preference-Applied": "respond-async"},
        )
    try:
        summary = import_flow(
            db.session,
            upload.read(),
            current_actor(),
            fmt=fmt,
            layout=layout,
            file_name=upload.filename,
            ente_code=ente.code if ente else None,
            principal=g.principal,
        )
    except FlowRefused as exc:
        db.session.rollback()
        return error_response(exc.status, exc.message, {"errors": exc.errors[:50]})
    db.session.commit()
    return jsonify({**summary.as_json(), "review": summary.review}), 201


def _prefers_async() -> bool:
    """RFC 7240: `Prefer: respond-async` among the request's preferences."""
    preferences = ",".join(request.headers.getlist("Prefer")).lower()
    return any(p.split(";")[0].strip() == "respond-async" for p in preferences.split(","))


# --- procedures (issue 14 item 4): fermi, ipoteche, pignoramenti, insinuazioni of the token's ente ---------


@bp.get("/procedures")
@token_required("positions:read")
def procedures_list() -> Any:
    """The procedures of one taxpayer (`?codice_fiscale=`) or of one position (`?position_id=`)."""
    from app.procedures.api import list_for_api

    body, status = list_for_api(db.session, g.principal, request.args)
    if status == 200:
        log_access(db.session, current_actor(), "api_procedures", taxpayer_id=None,
                   remote_addr=request.remote_addr, detail={k: v for k, v in request.args.items()})
        db.session.commit()
    return jsonify(body), status


@bp.get("/procedures/<int:procedure_id>")
@token_required("positions:read")
def procedure_get(procedure_id: int) -> Any:
    from app.procedures.api import one_for_api

    body, status = one_for_api(db.session, g.principal, procedure_id)
    return jsonify(body), status
# the plans' endpoints (app/plans/api.py) on this blueprint
from app.plans import api as _plans_api  # noqa: E402, F401
