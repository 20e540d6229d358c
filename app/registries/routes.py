"""The card's "Verifiche anagrafiche" section (loaded by htmx): the last check per registry with its outcome,
date and source; "Verifica ora" for the roles with `registries.check`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request

from app.core.access import current_principal, permission_required
from app.core.card_view import log_card_section
from app.core.security import current_actor
from app.extensions import db
from app.registries import services
from app.registries.forms import CheckNowForm
from app.registries.models import REGISTRIES
from app.registries.pdnd import RegistryError

bp = Blueprint("registries", __name__, url_prefix="/contribuenti")


def _section(taxpayer_id: int, *, error: str | None = None, done: list[Any] | None = None) -> str:
    from app.taxpayers.queries import get_taxpayer

    taxpayer = get_taxpayer(db.session, current_principal(), taxpayer_id)
    config = services.RegistryConfig.from_config(current_app.config)
    return render_template(
        "registries/_card_section_body.html",
        taxpayer=taxpayer,
        checks=services.last_checks(db.session, taxpayer.id),
        applicable=services.applicable(taxpayer),
        registries=REGISTRIES,
        config=config,
        form=CheckNowForm(),
        error=error,
        done=done,
    )


@bp.route("/<int:taxpayer_id>/verifiche-anagrafiche")
@permission_required("taxpayer.read")
def card_checks(taxpayer_id: int) -> Any:
    page = _section(taxpayer_id)  # 404 before the log row for a taxpayer out of scope
    if log_card_section(  # once per card view (app.core.card_view)
        db.session,
        current_actor(),
        "card_registries",
        taxpayer_id=taxpayer_id,
        remote_addr=request.remote_addr,
    ):
        db.session.commit()
    return page


@bp.route("/<int:taxpayer_id>/verifiche-anagrafiche", methods=["POST"])
@permission_required("registries.check")
def check_now(taxpayer_id: int) -> Any:
    from app.taxpayers.queries import get_taxpayer

    taxpayer = get_taxpayer(db.session, current_principal(), taxpayer_id)
    form = CheckNowForm()
    if not form.validate_on_submit():
        return _section(taxpayer_id, error="Richiesta non valida: ricaricare la pagina e riprovare."), 400
    config = services.RegistryConfig.from_config(current_app.config)
    try:
        outcomes = services.check_taxpayer(db.session, current_actor(), taxpayer, config, force=True)
    except RegistryError as exc:
        db.session.rollback()
        return _section(taxpayer_id, error=exc.message)
    db.session.commit()
    return _section(taxpayer_id, done=[o.registry for o in outcomes])
