"""RQ job of the registries: every morning, the stale checks of the taxpayers about to be notified are
refreshed (an item to issue in an open campaign, an act issued and not yet sent), a bounded number per run.
The registry of periodic jobs (PERIODIC_JOBS below, `esattoria batch elenco`) runs it every day at 04:30.
With REGISTRIES_ENABLED off or no PDND credentials it does nothing."""

from __future__ import annotations

from typing import Any

from flask import current_app

from app.extensions import db

PERIODIC_QUEUE = "periodic"
BATCH_LIMIT = 5000  # taxpayers per run: the registries are rate-limited
PERIODIC_JOBS = (
    (
        "app.registries.tasks.refresh_stale_checks",
        "ogni giorno alle 04:30, le verifiche anagrafiche scadute dei contribuenti in notifica",
        "30 4 * * *",
        60,
    ),
)


def refresh_stale_checks(limit: int = BATCH_LIMIT) -> dict[str, Any]:
    from app.core.db import utcnow
    from app.registries.services import RegistryConfig, prenotification_check, stale_taxpayers_to_notify

    config = RegistryConfig.from_config(current_app.config)
    if not (config.enabled and config.configured):
        return {"attivo": False, "verificati": 0, "in_cache": 0, "errori": {}}
    now = utcnow()
    ids = stale_taxpayers_to_notify(db.session, config, now, limit)
    report = prenotification_check(db.session, ids, config=config, now=now)
    db.session.commit()
    return report.as_json()
