"""RQ jobs of the acts' delivery. Each re-fetches, returns quietly when there is nothing to do, is idempotent
and commits its own work (style.md B.5).

- `poll_send_job()` (periodic queue): every SEND delivery sent and not final (`inviato`, `accettato`) is
  polled (`services.poll_send`: acceptance and IUN, then the perfection or unreachability date, the legal
  facts filed in the archive); one commit per delivery, so a SEND error on one leaves the others done; a
  rerun polls only what is still open and records no outcome twice. The registry of periodic jobs
  (PERIODIC_JOBS below, `esattoria batch elenco`) runs it every hour; `esattoria atti send-stato` does the
  same by hand. Without SEND_API_URL/SEND_API_KEY it does nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.core.audit import Actor
from app.extensions import db

log = logging.getLogger(__name__)
PERIODIC_QUEUE = "periodic"
OPEN_STATUSES = ("inviato", "accettato")
# Periodic jobs of this module: (callable, description, cron in Europe/Rome, expected max minutes), read by
# the registry of app/core/periodic.py.
PERIODIC_JOBS = (
    (
        "app.atti.delivery.tasks.poll_send_job",
        "ogni ora, lo stato su SEND degli atti inviati non notificati",
        "15 * * * *",
        30,
    ),
)
SEND_ACTOR = Actor.system("SEND")


def open_send_deliveries(session: Session) -> list[int]:
    """Ids of the SEND deliveries sent and not final, oldest first."""
    from app.atti.delivery.models import ActDelivery

    return list(
        session.scalars(
            sa.select(ActDelivery.id)
            .where(ActDelivery.channel == "send", ActDelivery.status.in_(OPEN_STATUSES))
            .order_by(ActDelivery.id)
        )
    )


def poll_send_all(session: Session, client: Any, *, file_store: str) -> list[dict[str, Any]]:
    """Poll every open SEND delivery through `client`; one result per delivery (committed one by one)."""
    from app.atti.delivery.models import ActDelivery
    from app.atti.delivery.services import poll_send
    from app.core.errors import DomainError

    results: list[dict[str, Any]] = []
    for delivery_id in open_send_deliveries(session):
        delivery = session.get(ActDelivery, delivery_id)
        if delivery is None or delivery.status not in OPEN_STATUSES:  # another run got there first
            continue
        try:
            outcome = poll_send(session, delivery, SEND_ACTOR, client, file_store=file_store)
            session.commit()
        except DomainError as exc:
            session.rollback()
            log.warning("SEND: consegna %s non controllata: %s", delivery_id, exc)
            results.append({"delivery": delivery_id, "error": str(exc)})
            continue
        results.append(
            {
                "delivery": delivery_id,
                "iun": delivery.send_iun,
                "status": delivery.status,
                "outcome": outcome.outcome if outcome else None,
            }
        )
    return results


def poll_send_job() -> dict[str, Any]:
    """The periodic poll of SEND (idempotent)."""
    from app.atti.delivery.send import SendClient

    config = current_app.config
    checked: list[dict[str, Any]] = []
    if config.get("SEND_API_URL") and config.get("SEND_API_KEY"):
        with SendClient.from_config(config) as client:
            checked = poll_send_all(db.session, client, file_store=config["FILE_STORE"])
    else:
        db.session.rollback()
    return {"checked": len(checked), "results": checked}
