"""The conservazione screen (administrators): the package export of a selection and the documents whose
retention has ended, each with its discard button. Registered on the archive's blueprint."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from flask import abort, after_this_request, current_app, flash, redirect, render_template, send_file, url_for

from app.archive import queries, retention
from app.archive.entrypoints.forms import DiscardForm, PackageForm
from app.archive.routes import _enti, bp
from app.archive.services import document_types
from app.core.access import current_principal, permission_required
from app.core.errors import DomainError
from app.core.security import current_actor
from app.extensions import db


def _admin_only() -> None:
    """Retention is the administrator's business: anyone else is told no (403)."""
    if current_principal().role != "admin":
        abort(403)


def _today() -> dt.date:
    from app.payments.parsing import ROME

    return dt.datetime.now(ROME).date()


def _package_form(enti: list[Any]) -> PackageForm:
    form = PackageForm()
    form.ente_id.choices = [(e.id, f"{e.code} – {e.name}") for e in enti]
    kinds = {t.code: t for t in document_types(db.session, [e.id for e in enti])}
    form.types.choices = [
        (code, f"{t.label} ({retention.retention_label(t.retention_years).lower()})")
        for code, t in kinds.items()
    ]
    return form


def _render(form: PackageForm, status: int = 200) -> Any:
    return (
        render_template(
            "archive/conservazione.html",
            form=form,
            discard_form=DiscardForm(),
            documents=retention.discardable(db.session, current_principal(), _today()),
            retention_end=retention.retention_end,
        ),
        status,
    )


@bp.route("/conservazione")
@permission_required("archive.read")
def retention_page() -> Any:
    _admin_only()
    return _render(_package_form(_enti()))


@bp.route("/conservazione/pacchetto", methods=["POST"])
@permission_required("archive.read")
def retention_package() -> Any:
    _admin_only()
    enti = _enti()
    form = _package_form(enti)
    if not form.validate_on_submit():
        return _render(form, 400)
    selection = retention.Selection(
        ente=next(e for e in enti if e.id == form.ente_id.data),
        type_codes=tuple(form.types.data or ()),
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )
    folder = Path(tempfile.mkdtemp(prefix="esattoria-conserva-"))
    out = folder / f"conservazione-{selection.ente.code}-{_today():%Y%m%d}.zip"
    try:
        retention.write_package(
            db.session,
            selection,
            out,
            current_actor(),
            file_store=current_app.config["FILE_STORE"],
            principal=current_principal(),
        )
    except DomainError as exc:
        db.session.rollback()
        out.unlink(missing_ok=True)
        folder.rmdir()
        form.date_to.errors = [exc.message]
        return _render(form, 400)
    db.session.commit()

    @after_this_request
    def _cleanup(response: Any) -> Any:
        response.call_on_close(lambda: (out.unlink(missing_ok=True), folder.rmdir()))
        return response

    return send_file(out, mimetype="application/zip", as_attachment=True, download_name=out.name)


@bp.route("/<int:document_id>/scarta", methods=["POST"])
@permission_required("archive.write")
def document_discard(document_id: int) -> Any:
    _admin_only()
    if not DiscardForm().validate_on_submit():
        abort(400)
    document = queries.get_document(db.session, current_principal(), document_id)
    if document is None:
        abort(404)
    try:
        removal = retention.discard(db.session, document, current_actor(), today=_today())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("archive.retention_page"))
    db.session.commit()
    retention.remove_original(current_app.config["FILE_STORE"], removal)
    flash(f"Documento {removal.protocol} eliminato.", "success")
    return redirect(url_for("archive.retention_page"))
