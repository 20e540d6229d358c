"""One access-log row per view of a taxpayer card.

The card page logs its read (`AccessLog` action "card") and hands the sections it loads (payments,
contacts, documents, messages, registry checks, knowledge: HTMX fragments requested when their accordion
item is first opened, `hx-trigger="click once"`) a signed token of that view, in the `X-Esattoria-Scheda`
header (htmx `hx-headers` on the card's body). A section that comes
with a valid token of the same user and taxpayer is part of the logged view and writes no row of its own; a
section requested any other way (no token, another user or taxpayer, a token older than CARD_VIEW_SECONDS,
a forged one) logs its own read as before. So every read stays logged, once per card view.
"""

from __future__ import annotations

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from app.core.audit import Actor, log_access

CARD_VIEW_HEADER = "X-Esattoria-Scheda"
CARD_VIEW_SECONDS = 300  # the sections load right after the page; a late one logs its own read
_SALT = "esattoria.card-view"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def card_view_token(actor: Actor, taxpayer_id: int) -> str:
    """The token of a card view just logged: (user, taxpayer), signed and timestamped."""
    return _serializer().dumps([actor.user_id, taxpayer_id])


def covered_by_card_view(actor: Actor, taxpayer_id: int) -> bool:
    """Whether this request carries the token of a logged view of this taxpayer's card by this user."""
    token = request.headers.get(CARD_VIEW_HEADER)
    if not token or actor.user_id is None or len(token) > 200:
        return False
    try:
        user_id, taxpayer = _serializer().loads(token, max_age=CARD_VIEW_SECONDS)
    except (BadSignature, ValueError, TypeError):
        return False
    return user_id == actor.user_id and taxpayer == taxpayer_id


def log_card_section(
    session: Session, actor: Actor, action: str, *, taxpayer_id: int, remote_addr: str | None
) -> bool:
    """Log the read of a card section unless the card view that loaded it is already logged. True when a row
    was added (the caller commits it, after rendering)."""
    if covered_by_card_view(actor, taxpayer_id):
        return False
    log_access(session, actor, action, taxpayer_id=taxpayer_id, remote_addr=remote_addr)
    return True
