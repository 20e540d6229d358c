"""Import screens: upload with preview and confirmation, the list of carichi, and the layouts (admin)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.carichi import queries, services
from app.carichi.forms import ConfirmForm, LayoutForm, UploadForm
from app.carichi.layouts import ENCODINGS, SEPARATORS, check_layout, ensure_default_layouts
from app.carichi.models import LAYOUT_FLOWS, LAYOUT_FORMATS, ImportLayout
from app.carichi.validation import DATE_FORMATS, DECIMAL_MODES
from app.core.access import current_principal, permission_required
from app.core.errors import Conflict, DomainError
from app.core.history import versions_of
from app.core.security import current_actor
from app.enti.queries import list_enti
from app.extensions import db
from app.jobs.files import StoredFile, path_of, store_stream

bp = Blueprint("carichi", __name__, url_prefix="/carichi")
TOKEN_MAX_AGE = 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="carichi-upload")


@bp.errorhandler(413)
def too_large(exc: Exception) -> Any:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    size = f"{limit // 1048576} MB" if limit >= 1048576 else f"{limit // 1024} KB"
    message = (
        f"Il file supera il limite di caricamento di {size}: dividerlo in più file o usare "
        "l'importazione da riga di comando (esattoria carichi import)."
    )
    return render_template("carichi/too_large.html", message=message), 413


@bp.route("/")
@permission_required("carichi.import")
def carico_list() -> Any:
    carichi = queries.list_carichi(db.session, current_principal())
    return render_template("carichi/carico_list.html", carichi=carichi)


def _upload_form() -> UploadForm:
    principal = current_principal()
    form = UploadForm()
    form.ente_id.choices = [(e.id, f"{e.code} – {e.name}") for e in list_enti(db.session, principal.ente_ids)]
    form.entrata_id.choices = [(0, "— nessuna (solo variazioni anagrafiche) —")] + [
        (e.id, f"{e.ente.code} · {e.code} – {e.name}")
        for e in queries.list_entrate(db.session, principal.ente_ids)
    ]
    form.layout_id.choices = [
        (layout.id, f"{layout.name} – {layout.format_label}, {layout.flow_label}")
        for layout in queries.list_layouts(db.session, active_only=True)
    ]
    return form


@bp.route("/nuovo", methods=["GET", "POST"])
@permission_required("carichi.import")
def upload() -> Any:
    if ensure_default_layouts(db.session):
        db.session.commit()
    form = _upload_form()
    if not form.validate_on_submit():
        if request.method == "GET" and not form.entrata_id.data:
            form.entrata_id.data = next((c[0] for c in form.entrata_id.choices if c[0]), 0)
        return render_template("carichi/carico_upload.html", form=form)
    try:
        target = services.resolve_target(
            db.session,
            ente_id=form.ente_id.data,
            entrata_id=form.entrata_id.data or None,
            layout_id=form.layout_id.data,
        )
    except DomainError as exc:
        form.entrata_id.errors.append(exc.message)
        return render_template("carichi/carico_upload.html", form=form), 422
    upload_file = form.file.data
    stored = store_stream(current_app.config["FILE_STORE"], upload_file.stream)
    name = (upload_file.filename or "file")[:255]
    # The file is read on the worker, never here: the page polls `preview` for the first rows.
    preview_job = services.queue_preview(target, stored, dt.date.today())
    token = _serializer().dumps(
        {
            "sha": stored.sha256,
            "path": stored.relative_path,
            "size": stored.size,
            "name": name,
            "ente": target.ente.id,
            "entrata": target.entrata.id if target.entrata else None,
            "layout": target.layout.id,
            "user": current_user.id,
            "preview": preview_job,
        }
    )
    return redirect(url_for("carichi.preview", t=token), code=303)


PREVIEW_PROBLEMS = {
    "failed": "Anteprima non riuscita per un errore interno: caricare di nuovo il file.",
    "missing": "Anteprima scaduta o non più disponibile: caricare di nuovo il file.",
}


@bp.route("/anteprima")
@permission_required("carichi.import")
def preview() -> Any:
    """The preview of an upload, read by the worker: the page (or its HTMX fragment, polled every second
    while the worker reads) shows the first rows as parsed, the refusal, or that the file is already
    loaded."""
    token = request.args.get("t", "")
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except BadSignature:
        abort(400, "Anteprima scaduta o non valida: caricare di nuovo il file.")
    if data.get("user") != current_user.id or data.get("ente") not in current_principal().ente_ids:
        abort(403)
    try:
        target = services.resolve_target(
            db.session, ente_id=data["ente"], entrata_id=data.get("entrata"), layout_id=data["layout"]
        )
    except DomainError as exc:
        abort(400, exc.message)
    status, result = services.preview_outcome(str(data.get("preview") or ""))
    result = result or {}
    context = {
        "target": target,
        "stored": StoredFile(data["sha"], data["path"], data["size"]),
        "file_name": data["name"],
        "duplicate": services.find_duplicate(db.session, target, data["sha"]),
        "status": status,
        "preview": result.get("preview"),
        "refused": result.get("refused") or PREVIEW_PROBLEMS.get(status),
        "confirm": ConfirmForm(token=token),
        "poll_url": url_for("carichi.preview", t=token),
    }
    template = "carichi/_preview_result.html" if request.htmx else "carichi/carico_preview.html"
    return render_template(template, **context)


@bp.route("/conferma", methods=["POST"])
@permission_required("carichi.import")
def confirm() -> Any:
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400, "Conferma non valida: ricaricare il file.")
    try:
        data = _serializer().loads(form.token.data, max_age=TOKEN_MAX_AGE)
    except BadSignature:
        abort(400, "Conferma scaduta o non valida: caricare di nuovo il file.")
    if data.get("user") != current_user.id or data.get("ente") not in current_principal().ente_ids:
        abort(403)
    try:
        path_of(current_app.config["FILE_STORE"], data["path"]).stat()
    except (OSError, ValueError):
        abort(400, "Il file caricato non è più disponibile: caricarlo di nuovo.")
    try:
        target = services.resolve_target(
            db.session, ente_id=data["ente"], entrata_id=data.get("entrata"), layout_id=data["layout"]
        )
        job = services.create_import_job(
            db.session,
            current_actor(),
            target,
            StoredFile(data["sha"], data["path"], data["size"]),
            data["name"],
        )
    except (Conflict, DomainError) as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("carichi.upload"))
    db.session.commit()
    flash(f"Importazione n. {job.id} in coda: l'avanzamento è mostrato qui sotto.", "success")
    return redirect(url_for("jobs.job_list", _anchor=f"job-{job.id}"))


# --- layouts (admin) ----------------------------------------------------------------------------------------


@bp.route("/tracciati")
@permission_required("admin.users")
def layout_list() -> Any:
    if ensure_default_layouts(db.session):
        db.session.commit()
    return render_template(
        "carichi/layout_list.html",
        layouts=queries.list_layouts(db.session),
        formats=LAYOUT_FORMATS,
        flows=LAYOUT_FLOWS,
    )


def _layout_form(layout: ImportLayout | None) -> LayoutForm:
    form = LayoutForm(obj=None if request.method == "POST" else layout)
    form.flow.choices = list(LAYOUT_FLOWS.items())
    form.format.choices = list(LAYOUT_FORMATS.items())
    form.encoding.choices = list(ENCODINGS.items())
    form.separator.choices = list(SEPARATORS.items())
    form.decimal_separator.choices = list(DECIMAL_MODES.items())
    form.date_formats.choices = [(k, f"{k} (es. {v})") for k, v in DATE_FORMATS.items()]
    if request.method == "GET":
        if layout is not None:
            form.columns.data = json.dumps(layout.columns, ensure_ascii=False, indent=1)
            form.options.data = json.dumps(layout.options or {}, ensure_ascii=False, indent=1)
        else:
            form.max_error_rate.data = Decimal("5")
            form.date_formats.data = ["AAAA-MM-GG", "GG/MM/AAAA"]
            form.options.data = "{}"
    return form


@bp.route("/tracciati/nuovo", methods=["GET", "POST"], defaults={"layout_id": None})
@bp.route("/tracciati/<int:layout_id>", methods=["GET", "POST"])
@permission_required("admin.users")
def layout_edit(layout_id: int | None) -> Any:
    layout = db.session.get(ImportLayout, layout_id) if layout_id else None
    if layout_id and layout is None:
        abort(404, "Tracciato non trovato.")
    form = _layout_form(layout)
    if form.validate_on_submit():
        problems: list[str] = []
        try:
            columns = json.loads(form.columns.data)
            options = json.loads(form.options.data or "{}")
            if not isinstance(options, dict):
                raise ValueError
        except ValueError:
            problems.append("Colonne e opzioni devono essere JSON valido (le opzioni un oggetto).")
        else:
            problems = check_layout(
                flow=form.flow.data,
                format=form.format.data,
                columns=columns,
                options=options,
                date_formats=form.date_formats.data,
                decimal=form.decimal_separator.data,
                encoding=form.encoding.data,
                separator=form.separator.data,
                max_error_rate=form.max_error_rate.data,
            )
        other = db.session.scalars(db.select(ImportLayout).where(ImportLayout.name == form.name.data)).first()
        if other is not None and other is not layout:
            problems.append(f"Esiste già un tracciato di nome «{form.name.data}».")
        if not problems:
            layout = layout or ImportLayout()
            for name in (
                "name",
                "description",
                "flow",
                "format",
                "encoding",
                "separator",
                "decimal_separator",
                "date_formats",
                "max_error_rate",
                "ignore_unknown_columns",
                "active",
            ):
                setattr(layout, name, getattr(form, name).data)
            layout.description = layout.description or ""
            layout.default_entrata = (form.default_entrata.data or "").upper() or None
            layout.columns, layout.options = columns, options
            db.session.add(layout)
            db.session.commit()
            flash(f"Tracciato «{layout.name}» salvato.", "success")
            return redirect(url_for("carichi.layout_edit", layout_id=layout.id))
        form.columns.errors = list(form.columns.errors) + problems
    versions = versions_of(db.session, layout) if layout is not None else []
    return render_template("carichi/layout_edit.html", form=form, layout=layout, versions=versions)
