"""Import screens: upload with preview and confirmation, the list of carichi, and the layouts (admin)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.carichi import exports, queries, services
from app.carichi.forms import ConfirmForm, LayoutForm, UploadForm
from app.carichi.layouts import (
    CANONICAL,
    ENCODINGS,
    LAYOUT_ATTRIBUTES,
    SEPARATORS,
    ensure_default_layouts,
    layout_values,
    mapping_rows,
    option_fields,
)
from app.carichi.models import LAYOUT_FLOWS, LAYOUT_FORMATS, ImportLayout
from app.carichi.reading import FileRefused
from app.carichi.validation import DATE_FORMATS, DECIMAL_MODES, OPTIONAL_IN_LAYOUT, REQUIRED_COLUMNS
from app.core.access import current_principal, permission_required
from app.core.errors import Conflict, DomainError
from app.core.history import versions_of
from app.core.security import current_actor
from app.enti.queries import list_enti
from app.extensions import db
from app.jobs.files import StoredFile, path_of, store_stream
from app.reports.exports import FORMATS
from app.reports.routes import export_list

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
    return render_template("carichi/carico_list.html", carichi=carichi, formats=FORMATS)


@bp.route("/esporta.<fmt>")
@permission_required("carichi.import")
def carico_export(fmt: str) -> Any:
    if fmt not in FORMATS:
        abort(404)
    principal = current_principal()
    if not principal.can("export"):
        abort(403)
    return export_list(exports.carichi, fmt, {})


def _upload_form() -> UploadForm:
    """The upload form: the user's enti, the entrate of the chosen ente only, the active layouts (the
    canonical lista di carico first and preselected)."""
    principal = current_principal()
    form = UploadForm()
    enti = list_enti(db.session, principal.ente_ids)
    form.ente_id.choices = [(e.id, f"{e.code} – {e.name}") for e in enti]
    allowed = {e.id for e in enti}
    if request.method == "GET" and form.ente_id.data not in allowed:
        form.ente_id.data = enti[0].id if enti else None
    _entrata_choices(form, form.ente_id.data if form.ente_id.data in allowed else None)
    layouts = sorted(
        queries.list_layouts(db.session, active_only=True), key=lambda lay: (lay.name != CANONICAL, lay.flow)
    )
    form.layout_id.choices = [
        (layout.id, f"{layout.name} – {layout.format_label}, {layout.flow_label}") for layout in layouts
    ]
    if request.method == "GET" and layouts:
        form.layout_id.data = layouts[0].id
    return form


def _entrata_choices(form: UploadForm, ente_id: int | None) -> None:
    entrate = queries.list_entrate(db.session, frozenset({ente_id})) if ente_id else []
    form.entrata_id.choices = [(0, "— nessuna (solo variazioni anagrafiche) —")] + [
        (e.id, f"{e.code} – {e.name}") for e in entrate
    ]
    if request.method == "GET" and form.entrata_id.data not in {e.id for e in entrate}:
        form.entrata_id.data = entrate[0].id if len(entrate) == 1 else 0  # an ente with one entrata


@bp.route("/nuovo/entrate")
@permission_required("carichi.import")
def entrata_field() -> Any:
    """HTMX: the entrata select for the ente just chosen (only that ente's entrate)."""
    ente_id = request.args.get("ente_id", type=int)
    if ente_id not in current_principal().ente_ids:
        abort(404)
    form = UploadForm(formdata=None)
    _entrata_choices(form, ente_id)
    return render_template("carichi/_entrata_field.html", form=form)


@bp.route("/nuovo", methods=["GET", "POST"])
@permission_required("carichi.import")
def upload() -> Any:
    if ensure_default_layouts(db.session):
        db.session.commit()
    form = _upload_form()
    if not form.validate_on_submit():
        return render_template("carichi/carico_upload.html", form=form), 422 if form.errors else 200
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


def _layout_data(layout: ImportLayout | None) -> dict[str, Any]:
    """The editor's fields for a layout row (a new one starts as a canonical-like CSV lista di carico)."""
    if layout is None:
        return {
            "flow": "carico",
            "format": "csv",
            "encoding": "auto",
            "separator": "auto",
            "decimal_separator": "auto",
            "date_formats": ["AAAA-MM-GG", "GG/MM/AAAA"],
            "max_error_rate": Decimal("5"),
            "active": True,
            "columns": mapping_rows("carico", {}),
        }
    return {
        **{name: getattr(layout, name) for name in LAYOUT_ATTRIBUTES},
        "default_entrata": layout.default_entrata,
        "columns": mapping_rows(layout.flow, layout.columns),
        **option_fields(layout.options or {}),
    }


def _layout_form(layout: ImportLayout | None, formdata: Any = None) -> LayoutForm:
    if formdata is not None:
        form = LayoutForm(formdata=formdata)
    elif request.method == "POST":
        form = LayoutForm()
    else:
        form = LayoutForm(data=_layout_data(layout))
    form.flow.choices = list(LAYOUT_FLOWS.items())
    form.format.choices = list(LAYOUT_FORMATS.items())
    form.encoding.choices = list(ENCODINGS.items())
    form.separator.choices = list(SEPARATORS.items())
    form.decimal_separator.choices = list(DECIMAL_MODES.items())
    form.date_formats.choices = [(k, f"{k} (es. {v})") for k, v in DATE_FORMATS.items()]
    form.preview_ente.choices = [
        (e.id, f"{e.code} – {e.name}") for e in list_enti(db.session, current_principal().ente_ids)
    ]
    return form


def _rows(form: LayoutForm) -> list[dict[str, Any]]:
    return [entry.form.data for entry in form.columns]


def _reset_rows(form: LayoutForm) -> None:
    """The mapping rows for the form's flow, keeping what was typed for fields of the same name."""
    typed = {row["field"]: row for row in _rows(form)}
    while form.columns.entries:
        form.columns.pop_entry()
    for row in mapping_rows(form.flow.data, {}):
        form.columns.append_entry({**row, **{k: v for k, v in typed.get(row["field"], {}).items() if v}})


def _layout_values(form: LayoutForm, layout: ImportLayout | None) -> tuple[dict[str, Any], list[str]]:
    rows = [entry.form.data for entry in form.columns]
    return layout_values(form.data, rows, dict(layout.options or {}) if layout else {})


@bp.route("/tracciati/colonne")
@permission_required("admin.users")
def layout_columns() -> Any:
    """HTMX: the mapping rows (and the format's options) after the flow or the format changed."""
    form = _layout_form(None, formdata=request.args)
    if form.flow.data not in LAYOUT_FLOWS or form.format.data not in LAYOUT_FORMATS:
        abort(400)
    _reset_rows(form)
    return render_template(
        "carichi/_layout_columns.html",
        form=form,
        required=REQUIRED_COLUMNS[form.flow.data] - OPTIONAL_IN_LAYOUT,
    )


@bp.route("/tracciati/nuovo", methods=["GET", "POST"], defaults={"layout_id": None})
@bp.route("/tracciati/<int:layout_id>", methods=["GET", "POST"])
@permission_required("admin.users")
def layout_edit(layout_id: int | None) -> Any:
    layout = db.session.get(ImportLayout, layout_id) if layout_id else None
    if layout_id and layout is None:
        abort(404, "Tracciato non trovato.")
    form = _layout_form(layout)
    problems: list[str] = []
    preview: dict[str, Any] | None = None
    if form.validate_on_submit():
        values, problems = _layout_values(form, layout)
        if "anteprima" in request.form:
            preview = _sample_preview(form, values, problems)
            if request.headers.get("HX-Request"):
                return render_template("carichi/_layout_preview.html", preview=preview)
        else:
            other = db.session.scalars(
                db.select(ImportLayout).where(ImportLayout.name == form.name.data)
            ).first()
            if other is not None and other is not layout:
                problems.append(f"Esiste già un tracciato di nome «{form.name.data}».")
            if not problems:
                layout = layout or ImportLayout()
                for name, value in values.items():
                    setattr(layout, name, value)
                db.session.add(layout)
                db.session.commit()
                flash(f"Tracciato «{layout.name}» salvato.", "success")
                return redirect(url_for("carichi.layout_edit", layout_id=layout.id))
    elif request.method == "POST" and "anteprima" in request.form and request.headers.get("HX-Request"):
        preview = {"problems": ["Correggere gli errori del modulo e riprovare."]}
        return render_template("carichi/_layout_preview.html", preview=preview), 422
    versions = versions_of(db.session, layout) if layout is not None else []
    return render_template(
        "carichi/layout_edit.html",
        form=form,
        layout=layout,
        versions=versions,
        problems=problems if preview is None else [],
        preview=preview,
        required=REQUIRED_COLUMNS.get(form.flow.data, frozenset()) - OPTIONAL_IN_LAYOUT,
    )


def _sample_preview(form: LayoutForm, values: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """The first rows of the sample file as the layout being edited reads them (nothing is saved)."""
    if problems:
        return {"problems": problems}
    sample = form.sample.data
    if not sample or not getattr(sample, "filename", None):
        return {"problems": ["Scegliere un file di prova."]}
    if form.preview_ente.data not in current_principal().ente_ids:
        return {"problems": ["Scegliere l'ente dell'anteprima."]}
    draft = ImportLayout(**values)  # transient: never added to the session
    try:
        rows = services.preview_sample(
            db.session, draft, form.preview_ente.data, sample.stream, dt.date.today()
        )
    except FileRefused as exc:
        return {"refused": exc.message, "file_name": sample.filename}
    return {**rows, "file_name": sample.filename}
