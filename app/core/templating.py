"""Jinja filters (Italian formats) and the navigation of each role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Flask
from flask_login import current_user

from app.core.access import PERMISSIONS
from app.engine import notice


@dataclass(frozen=True, slots=True)
class NavItem:
    endpoint: str
    label: str
    icon: str
    permission: str | None = None
    # a dropdown: its entries (the item's own endpoint is the first one's, for the active state and no-JS)
    children: tuple[NavItem, ...] = ()


NAV = (
    NavItem("main.home", "Home", "it-pa", "taxpayer.read"),  # a taxpayer's home is "La mia posizione"
    NavItem("taxpayers.search", "Contribuenti", "it-user", "taxpayer.read"),
    # a dropdown is shown when at least one of its entries is allowed; it opens on its first allowed entry
    NavItem("positions.position_list", "Posizioni", "it-files", None, children=(
        NavItem("positions.position_list", "Elenco posizioni", "it-files", "position.read"),
        NavItem("monitor.search", "Ricerca posizioni", "it-search", "position.read"),
        NavItem("monitor.carichi", "Liste di carico: totali", "it-upload", "position.read"),
        NavItem("monitor.communications", "Visura delle comunicazioni", "it-mail", "acts.read"),
        NavItem("monitor.collections", "Visura degli incassi", "it-card", "position.read"),
        NavItem("plans.request_list", "Richieste di rateazione", "it-calendar", "plans.decide"),
        NavItem("plans.plan_list", "Piani rateali", "it-calendar", "plans.read"),
        NavItem("procedures.procedure_list", "Procedure", "it-warning-circle", "procedures.read"),
        NavItem("escalation.review", "Proposte di escalation", "it-exchange-circle", "escalation.review"),
        NavItem("escalation.radar_list", "Radar delle prescrizioni", "it-clock", "escalation.radar"),
    )),
    NavItem("carichi.carico_list", "Carichi", "it-upload", "carichi.import"),
    NavItem("payments.flow_list", "Pagamenti", "it-card", "position.read"),
    NavItem("atti.act_list", "Atti", "it-mail", "acts.read"),
    NavItem("archive.document_list", "Archivio", "it-box", "archive.read"),
    NavItem("crm_contacts.statistics", "Relazione", "it-comment", None, children=(
        NavItem("crm_contacts.statistics", "Contatti", "it-comment", "contact.read"),
        NavItem("messages.message_list", "Messaggi", "it-mail", "taxpayer.read"),
        NavItem("helpdesk.ticket_list", "Assistenza", "it-help-circle", "helpdesk.read"),
        NavItem("knowledge.article_list", "Conoscenza", "it-note", "knowledge.read"),
    )),
    # "Analisi": the dashboards, the query builder and the rendicontazione, as tabs of one page (analytics)
    NavItem("analytics.dashboard", "Analisi", "it-chart-line", "analytics.read"),
    NavItem("jobs.job_list", "Sistema", "it-settings", None, children=(
        NavItem("jobs.job_list", "Elaborazioni", "it-clock", "carichi.import"),
        NavItem("accountability.events", "Registri", "it-list", "audit.read"),
        # Administration has its own sub-navigation (parameters, users, API tokens, layouts, batch)
        NavItem("admin.parameters", "Amministrazione", "it-settings", "admin.users"),
    )),
    NavItem("selfservice.home", "La mia posizione", "it-user", "self_service"),
    NavItem("selfservice.documents", "Documenti", "it-file", "self_service"),
    NavItem("selfservice.payments", "Pagamenti", "it-card", "self_service"),
    NavItem("selfservice.plan", "Rateazione", "it-calendar", "self_service"),
    NavItem("crm_self_service.my_appointments", "Appuntamenti", "it-calendar", "self_service"),
    NavItem("selfservice.contacts", "Recapiti", "it-mail", "self_service"),
    NavItem("helpdesk.self_service", "Assistenza", "it-help-circle", "self_service"),
)


def nav_for(role: str) -> list[NavItem]:
    """The role's menu: the entries it may open; a dropdown keeps its allowed entries, opens on the first of
    them, and is left out when none is allowed (a single allowed entry stays a dropdown of one, so its label
    says where it belongs)."""

    def allowed(item: NavItem) -> bool:
        return item.permission is None or role in PERMISSIONS[item.permission]

    items = []
    for item in NAV:
        if item.children:
            children = tuple(child for child in item.children if allowed(child))
            if children:
                items.append(NavItem(children[0].endpoint, item.label, item.icon, item.permission, children))
        elif allowed(item):
            items.append(item)
    return items


def register(app: Flask) -> None:
    from app.engine.states import STATES as STATE_LABELS
    from app.positions.models import COMPONENT_LABELS
    from app.reports.formatting import (
        format_date_it,
        format_datetime_it,
        format_eur,
        format_int,
        format_percent_it,
        format_rate_it,
    )

    app.jinja_env.filters.update(
        eur=format_eur,
        date_it=format_date_it,
        datetime_it=format_datetime_it,
        int_it=format_int,
        percent_it=format_percent_it,
        rate_it=format_rate_it,  # a Rate column (percent points): 1.250000 -> "1,25%"
        state_label=lambda code: STATE_LABELS.get(code, code),
        component_label=lambda code: COMPONENT_LABELS.get(code, code),
        machine_eur=lambda text: format_eur(Decimal(text)),  # "1234.56" of the engine's JSON -> 1.234,56 €
        iso_date_it=lambda text: format_date_it(dt.date.fromisoformat(text)),
        # "0.05" (percent, the engine's JSON) -> 0,05%
        machine_percent=lambda text: format_percent_it(Decimal(text).scaleb(-2)),
        plural_it=plural_it,
        grouped4=notice.grouped,  # a codice avviso in groups of four, as printed on the avviso
    )

    @app.context_processor
    def navigation() -> dict[str, Any]:
        if current_user.is_authenticated:
            return {"nav_items": nav_for(current_user.role)}
        return {"nav_items": []}

    # can("export"): whether the signed-in user's role has a permission (templates show only what it allows)
    app.jinja_env.globals["can"] = can


def plural_it(count: int, singular: str, plural: str) -> str:
    """`1 | plural_it("posizione aperta", "posizioni aperte")` -> "1 posizione aperta"; 1.234 with a dot."""
    from app.reports.formatting import format_int

    return f"{format_int(count)} {singular if count == 1 else plural}"


def can(permission: str) -> bool:
    """Templates show a link only when the server would let the user follow it: `{% if can("export") %}`."""
    return bool(current_user.is_authenticated and current_user.role in PERMISSIONS[permission])
