"""Roles, permissions and the one per-ente scoping helper every taxpayer-data query goes through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

ROLE_LABELS: dict[str, str] = {
    "admin": "Amministratore",
    "backoffice": "Back office",
    "sportello": "Sportello",
    "callcenter": "Call center",
    "regione": "Regione",
    "contribuente": "Contribuente",
}
STAFF_ROLES = frozenset({"admin", "backoffice", "sportello", "callcenter", "regione"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "taxpayer.read": frozenset({"admin", "backoffice", "sportello", "callcenter", "regione"}),
    "taxpayer.edit": frozenset({"admin", "backoffice", "sportello"}),
    "position.read": frozenset({"admin", "backoffice", "sportello", "callcenter", "regione"}),
    "archive.read": frozenset({"admin", "backoffice", "sportello", "callcenter", "regione"}),
    "archive.write": frozenset({"admin", "backoffice", "sportello"}),
    "export": frozenset({"admin", "backoffice", "sportello", "regione"}),
    "carichi.import": frozenset({"admin", "backoffice"}),
    "acts.read": frozenset({"admin", "backoffice", "sportello", "callcenter", "regione"}),
    "acts.issue": frozenset({"admin", "backoffice"}),  # campaigns: create, stop, resume
    "acts.approve": frozenset({"admin"}),  # campaigns: the second pair of eyes
    "acts.templates": frozenset({"admin"}),  # act templates: new versions
    "atti.recapito": frozenset({"admin", "backoffice"}),  # print batches, PEC/SEND, notification outcomes
    "admin.users": frozenset({"admin"}),
    "admin.tokens": frozenset({"admin"}),
    # the audit trail and the card access log, read-only (the Regione checks the Gestore)
    "audit.read": frozenset({"admin", "regione"}),
    "message.send": frozenset({"admin", "backoffice", "sportello", "callcenter"}),
    "message.admin": frozenset({"admin"}),
    "self_service": frozenset({"contribuente"}),
    "contact.read": frozenset({"admin", "backoffice", "sportello", "callcenter", "regione"}),
    "contact.write": frozenset({"admin", "backoffice", "sportello", "callcenter"}),
    "plans.decide": frozenset({"admin", "backoffice"}),
    "plans.read": frozenset({"admin", "backoffice", "sportello", "callcenter", "regione"}),
    "plans.request": frozenset({"admin", "backoffice", "sportello"}),  # a rateazione asked at the desk
    # help desk (issue 16): the Regione referent reads every ticket and the reports, comments publicly, and
    # reads the Gestore's internal notes without writing or editing them
    "helpdesk.read": frozenset({"admin", "backoffice", "sportello", "callcenter", "regione"}),
    "helpdesk.open": frozenset({"admin", "backoffice", "sportello", "callcenter", "regione"}),
    "helpdesk.work": frozenset({"admin", "backoffice", "sportello", "callcenter"}),
    "helpdesk.reports": frozenset({"admin", "backoffice", "regione"}),
    # knowledge base (issue 12 point 4)
    "knowledge.read": frozenset({"admin", "backoffice", "sportello", "callcenter", "regione"}),
    "knowledge.edit": frozenset({"admin", "backoffice"}),
    # public registries (ANPR, INAD through PDND): "Verifica ora" on the card
    "registries.check": frozenset({"admin", "backoffice", "sportello"}),
    "procedures.read": frozenset({"admin", "backoffice", "sportello", "callcenter", "regione"}),
    "procedures.manage": frozenset({"admin", "backoffice"}),  # start procedures, record their steps
    # analytics (issue 15 points 3-4): dashboards for the staff; the ad-hoc query builder (save, share,
    # schedule) for those who analyse and export
    "analytics.read": frozenset({"admin", "backoffice", "sportello", "callcenter", "regione"}),
    "analytics.query": frozenset({"admin", "backoffice", "regione"}),
    # the batch monitor: periodic jobs, runs now or later (issue 15 point 5)
    "batch.manage": frozenset({"admin"}),
    # sgravio, sospensione and revoca, discarico, annullamento of a position (app/dynamics)
    "position.measures": frozenset({"admin", "backoffice"}),
    # escalation (issue 14 items 3 and 5): review and approve proposals, edit the rules, read the radar
    "escalation.review": frozenset({"admin", "backoffice"}),
    "escalation.rules": frozenset({"admin"}),
    "escalation.radar": frozenset({"admin", "backoffice", "regione"}),
}

API_SCOPES: dict[str, str] = {
    "positions:read": "Lettura posizioni e contribuenti",
    "carichi:write": "Invio liste di carico",
    "payments:write": "Invio flussi di pagamento",
    "jobs:read": "Stato delle elaborazioni",
    "positions:write": "Sgravi, sospensioni, discarichi e annullamenti di posizioni",
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking, reduced to what scoping needs: enti in scope, or one taxpayer (self-service)."""

    role: str
    ente_ids: frozenset[int]
    taxpayer_id: int | None = None
    user_id: int | None = None
    api_token_id: int | None = None

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]


def principal_of(user: Any) -> Principal:
    return Principal(
        role=user.role,
        ente_ids=frozenset(e.id for e in user.enti),
        taxpayer_id=user.taxpayer_id,
        user_id=user.id,
    )


def current_principal() -> Principal:
    return principal_of(current_user)


F = TypeVar("F", bound=Callable[..., Any])


def permission_required(permission: str) -> Callable[[F], F]:
    """Role check on the server: 401 flow for anonymous users, 403 for a role without the permission."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            from app.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in PERMISSIONS[permission]:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


# --- the scoping helper ---------------------------------------------------------------------------------
#
# Each slice declares, next to its models, how a row of each model is tied to an ente and (optionally) to one
# taxpayer; `scoped()` reads those declarations and nothing else, so core imports no slice and a new slice
# never edits this module:
#
#   register_scope(Position, ente=Position.ente_id, taxpayer=Position.taxpayer_id)    # columns of the row
#   register_scope(Movement, ente=through(Movement.position_id),                      # whatever the row its
#                  taxpayer=through(Movement.position_id))                            # foreign key names
#   register_scope(Taxpayer, ente=linked(TaxpayerEnte.taxpayer_id, TaxpayerEnte.ente_id),  # a link table
#                  taxpayer=Taxpayer.id)
#
# | declared as            | a row is in scope when                                                       |
# |------------------------|------------------------------------------------------------------------------|
# | a column               | the column holds an allowed ente id / the taxpayer's id                      |
# | `through(fk)`          | the row the foreign key points at is in scope (by that model's own rule)      |
# | `linked(key, ente)`    | a row of the link table ties the row (`key` = its primary key) to an ente     |
# | a callable `f(test)`   | `f` returns the condition, given `test(column)` = "this id is allowed"        |
#
# Staff and API clients see the rows of their enti (`ente`); a taxpayer account sees the rows tied to its own
# taxpayer (`taxpayer`; a model without one is refused to taxpayer accounts). A model with no declaration is
# refused: `scoped()` raises LookupError, it never returns the statement unscoped.

IdTest = Callable[[Any], sa.ColumnElement[bool]]  # "this ente id / taxpayer id is allowed"


@dataclass(frozen=True, slots=True)
class Through:
    """A row is in scope when the row its foreign key `column` points at is (a movement: its position)."""

    column: Any

    def __call__(self, model: type, test: IdTest, kind: str) -> sa.ColumnElement[bool]:
        parent, key = _referenced(self.column)
        # the parent's table is the subquery's own (the statement being scoped may select from it too);
        # anything else the test names (e.g. `of_ente(..., Payment.ente_id)`) stays the enclosing statement's
        subquery = sa.select(key).where(_condition(parent, kind, test))
        return self.column.in_(subquery.correlate_except(sa.inspect(parent).local_table))


@dataclass(frozen=True, slots=True)
class Linked:
    """A row is tied to enti through a link table: `key` points at the row's primary key, `ente` names the
    ente."""

    key: Any
    ente: Any

    def __call__(self, model: type, test: IdTest, kind: str) -> sa.ColumnElement[bool]:
        (pk,) = sa.inspect(model).primary_key
        link = self.key.expression.table
        # correlated to the row's table only: the statement being scoped may join the link table too
        return sa.exists().where(self.key == pk, test(self.ente)).correlate_except(link)


def through(column: Any) -> Through:
    return Through(column)


def linked(key: Any, ente: Any) -> Linked:
    return Linked(key, ente)


@dataclass(frozen=True, slots=True)
class ScopeRule:
    model: type
    ente: Any
    taxpayer: Any = None


_SCOPES: dict[type, ScopeRule] = {}


def register_scope(model: type, *, ente: Any, taxpayer: Any = None) -> None:
    """Declare how rows of `model` are tied to an ente (required) and to a taxpayer (None: refused to taxpayer
    accounts). Called by each slice right after its models; declaring a model twice is a mistake."""
    for way in (ente, taxpayer):
        if way is not None and not (isinstance(way, Through | Linked) or callable(way) or _is_column(way)):
            raise TypeError(f"unknown scope declaration {way!r} for {model.__name__}")
    if model in _SCOPES:
        raise ValueError(f"scope of {model.__name__} declared twice")
    _SCOPES[model] = ScopeRule(model, ente, taxpayer)


def registered_scopes() -> dict[type, ScopeRule]:
    return dict(_SCOPES)


def scope_of(entity: Any) -> ScopeRule:
    rule = _SCOPES.get(entity) if isinstance(entity, type) else None
    if rule is None:
        raise LookupError(f"no scoping rule for {entity!r}: declare one with register_scope() by the model")
    return rule


def _is_column(value: Any) -> bool:
    return isinstance(value, sa.ColumnElement) or hasattr(value, "__clause_element__")


def _referenced(column: Any) -> tuple[type, Any]:
    """The mapped class a foreign-key column points at, and the column it points at."""
    (fk,) = column.expression.foreign_keys
    target = fk.column
    for mapper in sa.inspect(column.class_).registry.mappers:
        if mapper.local_table is target.table:
            return mapper.class_, mapper.columns[target.key]
    raise LookupError(f"{column} points at {target.table.name}, which no model maps")


def _condition(model: type, kind: str, test: IdTest) -> sa.ColumnElement[bool]:
    rule = scope_of(model)
    way = rule.ente if kind == "ente" else rule.taxpayer
    if way is None:
        raise LookupError(f"no scoping rule for {model!r} and taxpayer accounts")
    if isinstance(way, Through | Linked):
        return way(model, test, kind)
    if _is_column(way):
        return test(way)
    return way(test)


def visible(entity: Any, principal: Principal) -> sa.ColumnElement[bool]:
    """The condition that keeps the rows of `entity` that `principal` may see."""
    scope_of(entity)
    if principal.role == "contribuente":
        if principal.taxpayer_id is None:
            return sa.false()
        taxpayer_id = principal.taxpayer_id
        return _condition(entity, "taxpayer", lambda column: column == taxpayer_id)
    ente_ids = sorted(principal.ente_ids)
    return _condition(entity, "ente", lambda column: column.in_(ente_ids))


def of_ente(entity: Any, ente_id: Any) -> sa.ColumnElement[bool]:
    """The rows of `entity` tied to one ente: an id, or a column of the enclosing statement (the ente a
    payment was made to), for work done on an ente's behalf rather than a user's (matching a payer to a
    taxpayer)."""
    return _condition(entity, "ente", lambda column: column == ente_id)


def scoped(stmt: sa.Select, entity: Any, principal: Principal) -> sa.Select:
    """Restrict `stmt` (which selects from `entity`) to what `principal` may see.

    The only place where per-ente visibility is decided, from the declarations of `register_scope`.
    Undeclared entities are refused (LookupError) rather than left unscoped."""
    return stmt.where(visible(entity, principal))


def scoped_join(
    stmt: sa.Select, entity: Any, onclause: Any, principal: Principal, *, isouter: bool = False
) -> sa.Select:
    """Join `entity` to `stmt` keeping only its rows `principal` may see: with `isouter`, a row out of scope
    joins as NULLs (the row of `stmt` stays, the other ente's data does not come along)."""
    return stmt.join(entity, sa.and_(onclause, visible(entity, principal)), isouter=isouter)
