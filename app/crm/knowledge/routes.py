"""Screens of the knowledge base: the list with Italian full-text search, an article's page (office hours with
the next days' closures, the previous versions), the editor (admin and back office; from a resolved ticket
the form comes prefilled with its solution), and the card's side panel (HTMX fragment)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.core.access import current_principal, permission_required
from app.core.db import utcnow
from app.core.errors import DomainError
from app.core.history import versions_of
from app.core.query_forms import valid_query
from app.core.security import current_actor
from app.core.url_ids import parse_id
from app.crm.knowledge import forms, queries, services
from app.crm.knowledge.models import KINDS, WEEKDAYS, Article
from app.extensions import db
from app.helpdesk.clock import ROME

bp = Blueprint("knowledge", __name__, url_prefix="/conoscenza")


def _today() -> dt.date:
    return utcnow().astimezone(ROME).date()


def _enti() -> list[Any]:
    from app.enti.queries import list_enti

    return list_enti(db.session, current_principal().ente_ids)


@bp.route("/")
@permission_required("knowledge.read")
def article_list() -> Any:
    args = valid_query(forms.ArticleFilters(request.args))
    page = args.page.data or 1
    filters = {
        "q": (args.q.data or "").strip(),
        "tipo": args.tipo.data or "",
        "tag": args.tag.data or "",
        "scaduti": args.scaduti.data or "",
    }
    found: list[queries.Found] | None = None
    total = 0
    result = None
    if filters["q"]:
        total, found = queries.search_articles(
            db.session,
            current_principal(),
            filters["q"],
            [e.code for e in _enti()],
            kind=filters["tipo"] or None,
            page=page,
        )
    else:
        result = queries.list_articles(
            db.session,
            current_principal(),
            day=_today(),
            kind=filters["tipo"] or None,
            tag=filters["tag"] or None,
            include_expired=bool(filters["scaduti"]),
            page=page,
        )
    return render_template(
        "crm/knowledge/article_list.html",
        result=result,
        found=found,
        total=total,
        filters=filters,
        kinds=KINDS,
        today=_today(),
    )


def _article(article_id: int) -> Article:
    article = queries.get_article(db.session, current_principal(), article_id)
    if article is None:
        abort(404)
    return article


@bp.route("/<int:article_id>")
@permission_required("knowledge.read")
def article_detail(article_id: int) -> Any:
    article = _article(article_id)
    days = queries.opening_days(article, _today()) if article.kind == "orari" else []
    return render_template(
        "crm/knowledge/article_detail.html",
        article=article,
        days=days,
        weekdays=WEEKDAYS,
        versions=versions_of(db.session, article),
        today=_today(),
    )


def _form(article: Article | None) -> forms.ArticleForm:
    form = forms.ArticleForm(obj=article)
    form.kind.choices = list(KINDS.items())
    form.ente_id.choices = [(0, "Tutti gli enti"), *((e.id, f"{e.code} – {e.name}") for e in _enti())]
    if request.method == "GET" and article is not None:
        form.ente_id.data = article.ente_id or 0
        for n in range(7):
            getattr(form, f"hours_{n}").data = (article.office_hours or {}).get(str(n), "")
    return form


def _save(form: forms.ArticleForm, article: Article | None) -> Any:
    enti = {e.id: e for e in _enti()}
    ente_id = form.ente_id.data or None
    if ente_id is not None and ente_id not in enti:
        abort(404)
    if article is not None and article.ente_id is not None and article.ente_id not in enti:
        abort(404)
    ticket_id = parse_id(form.source_ticket_id.data)
    if ticket_id is not None and _ticket(ticket_id) is None:
        abort(404)
    data = services.ArticleData(
        kind=form.kind.data,
        title=form.title.data,
        body=form.body.data,
        ente_id=ente_id,
        ente_code=enti[ente_id].code if ente_id else None,
        valid_from=form.valid_from.data,
        valid_to=form.valid_to.data,
        tags=form.tags.data or "",
        entrate=form.entrate.data or "",
        office_name=form.office_name.data,
        office_hours={str(n): getattr(form, f"hours_{n}").data or "" for n in range(7)},
        source_ticket_id=ticket_id,
    )
    now = utcnow()
    saved = services.save_article(db.session, article, data, current_actor(), now=now)
    if ticket_id is not None and article is None:
        from app.helpdesk.services import note_article

        note_article(db.session, _ticket(ticket_id), saved.id, current_actor(), now=now)
    return saved


def _ticket(ticket_id: int) -> Any:
    from app.helpdesk.queries import get_ticket

    return get_ticket(db.session, current_principal(), ticket_id)


@bp.route("/nuovo", methods=["GET", "POST"])
@permission_required("knowledge.edit")
def article_new() -> Any:
    args = valid_query(forms.NewArticleArgs(request.args))
    form = _form(None)
    if request.method == "GET":
        form.valid_from.data = _today()
        form.kind.data = args.tipo.data or "notizia"
        if args.segnalazione.data:
            ticket = _ticket(args.segnalazione.data)
            if ticket is None:
                abort(404)
            draft = services.draft_from_ticket(ticket, _today())
            form.kind.data = draft["kind"]
            form.title.data = draft["title"]
            form.body.data = draft["body"]
            form.tags.data = draft["tags"]
            form.ente_id.data = draft["ente_id"]
            form.source_ticket_id.data = str(ticket.id)
    if form.validate_on_submit():
        try:
            article = _save(form, None)
        except DomainError as exc:
            db.session.rollback()
            form.title.errors = [*form.title.errors, exc.message]
        else:
            db.session.commit()
            flash("Articolo pubblicato.", "success")
            return redirect(url_for("knowledge.article_detail", article_id=article.id))
    return render_template("crm/knowledge/article_edit.html", form=form, article=None)


@bp.route("/<int:article_id>/modifica", methods=["GET", "POST"])
@permission_required("knowledge.edit")
def article_edit(article_id: int) -> Any:
    article = _article(article_id)
    if article.ente_id is None and current_principal().role != "admin":
        abort(403)  # an article for every ente is the administrator's
    form = _form(article)
    if form.validate_on_submit():
        try:
            _save(form, article)
        except DomainError as exc:
            db.session.rollback()
            form.title.errors = [*form.title.errors, exc.message]
        else:
            db.session.commit()
            flash("Articolo aggiornato: la versione precedente resta nello storico.", "success")
            return redirect(url_for("knowledge.article_detail", article_id=article.id))
    return render_template("crm/knowledge/article_edit.html", form=form, article=article)


@bp.route("/scheda/<int:taxpayer_id>")
@permission_required("knowledge.read")
def card_panel(taxpayer_id: int) -> Any:
    """The card's side panel: articles tagged with the entrate the taxpayer owes, and the offices."""
    import sqlalchemy as sa

    from app.core.access import scoped
    from app.positions.models import Position
    from app.taxpayers.queries import get_taxpayer

    taxpayer = get_taxpayer(db.session, current_principal(), taxpayer_id)  # 404 outside the user's enti
    from app.enti.models import Entrata

    codes = set(
        db.session.scalars(
            scoped(
                sa.select(Entrata.code).join(Position, Position.entrata_id == Entrata.id),
                Position,
                current_principal(),
            )
            .where(Position.taxpayer_id == taxpayer.id)
            .distinct()
        )
    )
    articles = queries.related_to_entrate(db.session, current_principal(), codes, day=_today())
    return render_template("crm/_card_knowledge_panel.html", articles=articles, taxpayer=taxpayer)
