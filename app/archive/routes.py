"""Screens of the archive: the list, a document's page (text, links to confirm, download of the original),
the multi-file upload, and the taxpayer card's "Documenti" fragment."""

from __future__ import annotations

import datetime as dt
import html
import re
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from markupsafe import Markup, escape

from app.archive import forms, queries, services
from app.archive.deletion import retention_end
from app.archive.models import CHANNELS, DOCUMENT_STATUSES
from app.core.access import current_principal, permission_required
from app.core.card_view import log_card_section
from app.core.errors import DomainError
from app.core.query_forms import valid_query
from app.core.security import current_actor
from app.core.url_ids import parse_id
from app.extensions import db

bp = Blueprint("archive", __name__, url_prefix="/archivio")
_EM = re.compile(r"(</?em>)")


@bp.app_template_filter("em_only")
def em_only(fragment: str | None) -> Markup:
    """A search backend's highlight as safe HTML whose only tags are <em>/</em>: every other piece of text is
    (re-)escaped, stray or unbalanced marks dropped."""
    out: list[str] = []
    open_ = False
    for part in _EM.split(fragment or ""):
        if part == "<em>":
            if not open_:
                out.append(part)
                open_ = True
        elif part == "</em>":
            if open_:
                out.append(part)
                open_ = False
        else:
            out.append(str(escape(html.unescape(part))))
    if open_:
        out.append("</em>")
    return Markup("".join(out))  # nosec B704: each text part escaped above, only balanced <em> left


def _enti() -> list[Any]:
    from app.enti.queries import list_enti

    return list_enti(db.session, current_principal().ente_ids)


@bp.route("/")
@permission_required("archive.read")
def document_list() -> Any:
    args = valid_query(forms.DocumentFilters(request.args))
    page = args.pagina.data or 1
    status = args.stato.data or None
    ente_id = args.ente.data
    work = args.lista.data or ""  # "da_collegare" | "da_rivedere"
    result = queries.list_documents(
        db.session,
        current_principal(),
        page=page,
        status=status if status in DOCUMENT_STATUSES else None,
        ente_id=ente_id,
        to_link=work == "da_collegare",
        to_review=current_app.config["OCR_CONFIDENCE_REVIEW"] if work == "da_rivedere" else None,
    )
    return render_template(
        "archive/document_list.html",
        result=result,
        statuses=DOCUMENT_STATUSES,
        enti=_enti(),
        filters={"stato": status or "", "ente": ente_id or "", "lista": work},
        thumbs=_thumbs(result.items),
    )


@bp.route("/<int:document_id>")
@permission_required("archive.read")
def document_detail(document_id: int) -> Any:
    document = queries.get_document(db.session, current_principal(), document_id)
    if document is None:
        abort(404)
    done, total = queries.reading_progress(db.session, document)
    if request.headers.get("HX-Request"):  # the reading progress, polled while the text is read
        if document.status not in ("received", "reading"):
            return "", 200, {"HX-Refresh": "true"}  # read: the whole page again, with its text and links
        return render_template("archive/_progress.html", document=document, done=done, total=total)
    queries.log_reads(
        db.session,
        current_actor(),
        "archive_document",
        [lk.taxpayer_id for lk in document.links if lk.state != "rejected"],
        remote_addr=request.remote_addr,
        document_id=document.id,
    )
    end = retention_end(document)
    targets = queries.link_targets(db.session, document.links)
    page = render_template(
        "archive/document_detail.html",
        document=document,
        targets=targets,
        history=queries.document_history(document, targets),
        threshold=services.review_threshold(
            db.session, document.ente_id, current_app.config["OCR_CONFIDENCE_REVIEW"]
        ),
        done=done,
        total=total,
        form=forms.LinkDecisionForm(),
        retention_end=end,
        deletable=end is not None and end <= dt.date.today(),
        viewer=_viewer(document),
        registration=queries.registration(db.session, current_principal(), document),
    )
    db.session.commit()  # the access log rows
    return page


def _thumbs(documents: list[Any]) -> set[int]:
    """The documents of a list whose first page has a thumbnail."""
    from app.archive.thumbnails import can_render

    return {d.id for d in documents if d.file_path and can_render(d.mime_type, d.encrypted)}


def _viewer(document: Any) -> str | None:
    """How the page shows the file: "pdf" (PDF.js), "image" (inline), None (download only)."""
    from app.archive.thumbnails import IMAGE_TYPES

    if document.encrypted or document.file_path is None:
        return None
    if document.mime_type == "application/pdf":
        return "pdf"
    return "image" if document.mime_type in IMAGE_TYPES else None


@bp.route("/<int:document_id>/collegamenti/<int:link_id>", methods=["POST"])
@permission_required("archive.write")
def link_decide(document_id: int, link_id: int) -> Any:
    link = queries.get_link(db.session, current_principal(), document_id, link_id)
    if link is None:
        abort(404)
    form = forms.LinkDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.decide_link(db.session, link, form.decision.data, current_actor())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("archive.document_detail", document_id=document_id))
    db.session.commit()
    flash(
        "Collegamento confermato." if form.decision.data == "confirm" else "Collegamento rifiutato.",
        "success",
    )
    if request.form.get("ritorno") == "scheda":  # confirmed from the taxpayer card
        return redirect(url_for("taxpayers.card", taxpayer_id=link.taxpayer_id))
    return redirect(url_for("archive.document_detail", document_id=document_id))


@bp.route("/<int:document_id>/elimina", methods=["POST"])
@permission_required("admin.users")
def document_delete(document_id: int) -> Any:
    """Deletion at the end of retention, by an administrator only (app/archive/deletion.py): the original and
    its thumbnails leave the file store after the commit."""
    from app.archive import deletion
    from app.payments.parsing import ROME

    document = queries.get_document(db.session, current_principal(), document_id)
    if document is None:
        abort(404)
    if not forms.DeleteForm().validate_on_submit():
        abort(400)
    try:
        removal = deletion.delete_document(
            db.session, document, current_actor(), today=dt.datetime.now(ROME).date()
        )
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("archive.document_detail", document_id=document_id))
    db.session.commit()
    deletion.remove_files(current_app.config["FILE_STORE"], removal)
    flash(f"Documento {removal.protocol} eliminato.", "success")
    return redirect(url_for("archive.document_list"))


@bp.route("/<int:document_id>/originale")
@permission_required("archive.read")
def document_download(document_id: int) -> Any:
    """The original as an attachment; with `?vedi=1` inline, for the page's viewer (PDF.js, images). Both are
    logged (an event on the timeline of each taxpayer the document concerns)."""
    from app.jobs.files import path_of

    document = queries.get_document(db.session, current_principal(), document_id)
    if document is None or document.file_path is None:  # deleted: the original has left the store
        abort(404)
    inline = request.args.get("vedi") == "1"
    services.record_access(db.session, document, current_actor(), viewed=inline)
    db.session.commit()
    response = send_file(
        path_of(current_app.config["FILE_STORE"], document.file_path),
        mimetype=document.mime_type,
        as_attachment=not inline,
        download_name=document.file_name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"  # every view reaches the server (and its log)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/<int:document_id>/anteprima.png")
@permission_required("archive.read")
def document_thumbnail(document_id: int) -> Any:
    """The first page as a small PNG, for the lists (rendered once per content, cached in the file store)."""
    from app.archive import thumbnails
    from app.jobs.files import path_of

    document = queries.get_document(db.session, current_principal(), document_id)
    if (
        document is None
        or document.file_path is None
        or not thumbnails.can_render(document.mime_type, document.encrypted)
    ):
        abort(404)
    store = current_app.config["FILE_STORE"]
    try:
        png = thumbnails.thumbnail(
            store, path_of(store, document.file_path), document.sha256, document.mime_type
        )
    except ValueError:
        abort(404)
    response = send_file(png, mimetype="image/png", max_age=0)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/nuovo", methods=["GET", "POST"])
@permission_required("archive.write")
def document_upload() -> Any:
    """The desk's multi-file upload; from a taxpayer's card (`?contribuente=<id>`) the documents are linked
    to that taxpayer at once."""
    from app.taxpayers.queries import get_taxpayer

    form = forms.UploadForm()
    enti = _enti()
    form.ente_id.choices = [(e.id, f"{e.code} – {e.name}") for e in enti]
    form.channel.choices = list(CHANNELS.items())
    form.doc_type.choices = [
        (t.code, t.label)
        for t in {t.code: t for t in services.document_types(db.session, [e.id for e in enti])}.values()
    ]
    if request.method == "GET":
        form.channel.data = form.channel.data or "sportello"
        form.doc_type.data = form.doc_type.data or services.DEFAULT_TYPE
        form.taxpayer_id.data = request.args.get("contribuente", "")
    taxpayer = None
    if (form.taxpayer_id.data or "").isdigit():
        taxpayer_id = parse_id(form.taxpayer_id.data)  # None for 0 or past the integer column: a 404 too
        if taxpayer_id is None:
            abort(404)
        taxpayer = get_taxpayer(db.session, current_principal(), taxpayer_id)  # 404 outside
    results = None
    if form.validate_on_submit():
        ente = next(e for e in enti if e.id == form.ente_id.data)
        with tempfile.TemporaryDirectory() as tmp:
            incoming = _saved_uploads(form.files.data, Path(tmp))
            if not incoming:
                form.files.errors = ["Scegli almeno un file."]
            else:
                try:
                    results = services.file_documents(
                        db.session,
                        incoming,
                        ente,
                        form.channel.data,
                        form.doc_type.data,
                        current_actor(),
                        file_store=current_app.config["FILE_STORE"],
                        mode="jobs",
                        received_date=form.received_date.data or dt.date.today(),
                        sender=form.sender.data or None,
                        subject=form.subject.data or None,
                        taxpayer_id=taxpayer.id if taxpayer else None,
                    )
                except DomainError as exc:
                    db.session.rollback()
                    form.ente_id.errors = [exc.message]
                else:
                    db.session.commit()
    return render_template("archive/document_upload.html", form=form, results=results, taxpayer=taxpayer)


def _saved_uploads(uploads: list[Any], directory: Path) -> list[services.IncomingFile]:
    """The uploaded files saved under neutral names keeping a plain suffix (so a refusal can say "anche se il
    nome termina in .pdf"); the sender's name is kept as the document's."""
    incoming = []
    for n, upload in enumerate(f for f in uploads if f and f.filename):
        path = services.neutral_path(directory, f"{n:04d}", upload.filename or "")
        upload.save(path)
        incoming.append(services.IncomingFile(upload.filename or path.name, path))
    return incoming


@bp.route("/contribuente/<int:taxpayer_id>")
@permission_required("archive.read")
def taxpayer_documents(taxpayer_id: int) -> Any:
    """The card's "Documenti" section (loaded by htmx): that taxpayer's documents in the user's scope."""
    if not queries.taxpayer_visible(db.session, current_principal(), taxpayer_id):
        abort(404)
    result = queries.list_documents(db.session, current_principal(), per_page=20, taxpayer_id=taxpayer_id)
    actor, where = current_actor(), request.remote_addr
    # logged once per card view (app.core.card_view)
    logged = log_card_section(db.session, actor, "card_documents", taxpayer_id=taxpayer_id, remote_addr=where)
    proposed = {
        d.id: [lk for lk in d.links if lk.taxpayer_id == taxpayer_id and lk.state == "proposed"]
        for d in result.items
    }
    page = render_template(
        "archive/_taxpayer_documents.html",
        result=result,
        taxpayer_id=taxpayer_id,
        proposed=proposed,
        form=forms.LinkDecisionForm(),
        thumbs=_thumbs(result.items),
    )
    # the access log row, committed after rendering: a commit first would expire the rows the page reads, and
    # the template would load them again one by one
    if logged:
        db.session.commit()
    return page


from app.archive.entrypoints import routes as _retention_routes  # noqa: E402,F401  (conservazione)
