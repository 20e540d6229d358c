"""RQ jobs of the payments module. Each takes ids, re-fetches, and commits its own work.

- `run_flow_import(job_id)`: an uploaded flow (batch job of app/jobs, queue "imports"): claim, import and
  reconcile in ONE transaction (a refusal rolls everything back and is recorded on the job, with the reasons
  as the job's error rows);
- `produce_riversamento_job(ente_id, dal, al)`: the riversamento of a period, on demand;
- `daily_riversamento(day)`: the scheduled one (yesterday, every ente);
- `fetch_fdr_job()`: every morning, the pagoPA FdR flows published over FdR REST for every ente, imported and
  reconciled. Without FDR_API_KEY it does nothing.
The registry of periodic jobs (PERIODIC_JOBS below, app/core/periodic.py, `esattoria batch elenco`) runs the
last two every morning.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import current_app

from app.core.audit import Actor
from app.extensions import db

log = logging.getLogger(__name__)
QUEUE = "imports"
PERIODIC_QUEUE = "periodic"
# Periodic jobs of this module: (callable, description, cron in Europe/Rome, expected max minutes), read by
# the registry of app/core/periodic.py.
PERIODIC_JOBS = (
    (
        "app.payments.tasks.daily_riversamento",
        "ogni giorno alle 06:00, il giorno precedente",
        "0 6 * * *",
        60,
    ),
    (
        "app.payments.tasks.fetch_fdr_job",
        "ogni giorno alle 05:00, i flussi FdR pubblicati da pagoPA",
        "0 5 * * *",
        120,
    ),
)


def run_flow_import(job_id: int) -> dict[str, Any] | None:
    """Run (or run again) the import of an uploaded payments flow."""
    from app.jobs import services as job_services
    from app.jobs.files import path_of
    from app.jobs.progress import ProgressReporter
    from app.payments.parsing import FlowRefused
    from app.payments.services import import_flow

    session = db.session
    claim = job_services.claim_job(session, job_id)
    if claim is None:
        session.rollback()
        return None
    session.commit()
    job = claim.job
    session.info["actor_id"] = job.created_by_id
    actor = Actor(user_id=job.created_by_id, label=job.actor_label, api_token_id=job.api_token_id)
    params = dict(job.params or {})
    reporter = ProgressReporter(db.engine, job.id)
    try:
        data = path_of(current_app.config["FILE_STORE"], job.file_path or "").read_bytes()
        reporter.phase("Lettura, controllo e riconciliazione", during_load=True)
        from app.core.access import Principal

        principal = Principal(role="backoffice", ente_ids=frozenset(params.get("ente_ids") or []))
        summary = import_flow(
            session,
            data,
            actor,
            fmt=params.get("format") or None,
            layout=params.get("layout") or None,
            ente_code=params.get("ente") or None,
            file_name=job.file_name,
            principal=principal if params.get("ente_ids") else None,
        )
        result = {
            **summary.as_json(),
            "review": summary.review,
            "status": "accettato",
            "replaced_flow": summary.replaced_flow_id,
            # the keys the jobs page shows for every import
            "accepted": summary.payments,
            "rejected": 0,
            "total_cents": summary.total_cents,
        }
        job.rows_total = summary.payments + summary.duplicates
        if not job_services.finish_job(session, claim, status="done", result=result):
            session.rollback()
            return None
        session.commit()
        return result
    except (FlowRefused, FileNotFoundError) as exc:
        session.rollback()
        message = getattr(exc, "message", None) or "Il file archiviato non è più disponibile."
        errors = getattr(exc, "errors", []) or [
            {"line": None, "column": None, "reason": message, "value": None}
        ]
        job_services.replace_errors(
            session,
            job.id,
            iter(
                [
                    {
                        "batch_job_id": job.id,
                        "line": e.get("line"),
                        "column": (e.get("column") or None),
                        "reason": str(e.get("reason"))[:500],
                        "value": (str(e["value"])[:200] if e.get("value") else None),
                        "kind": "rejected",
                    }
                    for e in errors[:10_000]
                ]
            ),
        )
        result = {"flow": None, "status": "rifiutato", "message": message}
        job_services.finish_job(session, claim, status="failed", result=result, error_message=message[:2000])
        session.commit()
        return result
    except Exception:
        session.rollback()
        log.exception("run_flow_import: job %s failed", job_id)
        message = "Errore interno durante l'elaborazione: nessun pagamento è stato registrato."
        job_services.finish_job(
            session, claim, status="failed", result={"status": "errore"}, error_message=message
        )
        session.commit()
        raise


def produce_riversamento_job(
    ente_id: int, dal: str, al: str, user_id: int | None = None, label: str = "riversamento programmato"
) -> dict[str, Any]:
    from app.payments.riversamento import produce_riversamento
    from app.positions.services import system_principal

    actor = Actor(user_id=user_id, label=label)
    row = produce_riversamento(
        db.session,
        system_principal(db.session),
        actor,
        ente_id=ente_id,
        dal=dt.date.fromisoformat(dal),
        al=dt.date.fromisoformat(al),
        file_store=current_app.config["FILE_STORE"],
    )
    db.session.commit()
    return {"riversamento": row.id, "movimenti": row.allocations_count, "totale_cents": row.total_cents}


def daily_riversamento(day: str | None = None) -> list[dict[str, Any]]:
    """The riversamento of `day` (default: yesterday in Rome) for every ente."""
    import sqlalchemy as sa

    from app.enti.models import Ente
    from app.payments.parsing import ROME

    target = dt.date.fromisoformat(day) if day else dt.datetime.now(ROME).date() - dt.timedelta(days=1)
    done = [
        produce_riversamento_job(ente_id, target.isoformat(), target.isoformat())
        for ente_id in db.session.scalars(sa.select(Ente.id).order_by(Ente.id))
    ]
    return done


def run_fdr_fetch(job_id: int) -> dict[str, Any] | None:
    """A fetch of one ente's FdR flows asked for from the payments page (batch job kind "fdr").

    Each flow is imported or refused on its own (as in `services.fetch_fdr_flows`); the refused ones and the
    errors become the job's error rows (identifier and reason), so the jobs page offers them as a report."""
    from app.enti.models import Ente
    from app.jobs import services as job_services
    from app.payments.fdr_rest import NOT_CONFIGURED, FdrRestError, client_from_config
    from app.payments.services import fdr_fetch_summary, fetch_fdr_flows

    session = db.session
    claim = job_services.claim_job(session, job_id)
    if claim is None:
        session.rollback()
        return None
    session.commit()
    job = claim.job
    params = dict(job.params or {})
    actor = Actor(user_id=job.created_by_id, label=job.actor_label, api_token_id=job.api_token_id)

    def failed_with(message: str) -> dict[str, Any]:
        job_services.finish_job(
            session, claim, status="failed", result={"status": "errore"}, error_message=message[:2000]
        )
        session.commit()
        return {"status": "errore", "message": message}

    client = client_from_config(current_app.config)
    if client is None:
        return failed_with(NOT_CONFIGURED)
    ente = session.get(Ente, params.get("ente_id"))
    if ente is None:
        return failed_with("Ente non trovato.")
    since = params.get("dal")
    try:
        with client:
            outcomes = fetch_fdr_flows(
                session, ente, actor, client, published_after=dt.date.fromisoformat(since) if since else None
            )
    except FdrRestError as exc:
        session.rollback()
        return failed_with(exc.message)
    summary = fdr_fetch_summary(ente.code, outcomes)
    failed = [o for o in outcomes if o.status in ("refused", "error")]
    job_services.replace_errors(
        session,
        job.id,
        iter(
            [
                {
                    "batch_job_id": job.id,
                    "line": None,
                    "column": f"{o.identifier} rev. {o.revision}"[:80],
                    "reason": o.message[:500],
                    "value": o.psp[:200],
                    "kind": "rejected",
                }
                for o in failed
            ]
        ),
    )
    job.rows_total = len(outcomes)
    result = {**summary, "status": "scaricato", "rejected": len(failed)}
    if not job_services.finish_job(session, claim, status="done", result=result):
        session.rollback()
        return None
    session.commit()
    return result


def fetch_fdr_job() -> list[dict[str, Any]]:
    """Fetch and import the FdR flows pagoPA published for every ente (FdR REST).

    Without FDR_API_KEY it logs that the FdR service is not configured and does nothing. Each ente is
    committed on its own: a service error for one ente (logged, in the result) does not stop the others."""
    import sqlalchemy as sa

    from app.enti.models import Ente
    from app.payments.fdr_rest import NOT_CONFIGURED, FdrRestError, client_from_config
    from app.payments.services import fetch_fdr_flows

    client = client_from_config(current_app.config)
    if client is None:
        log.warning("fetch_fdr_job: %s", NOT_CONFIGURED)
        return []
    actor = Actor.system("scarico FdR programmato")
    done: list[dict[str, Any]] = []
    with client:
        for ente_id in list(db.session.scalars(sa.select(Ente.id).order_by(Ente.id))):
            ente = db.session.get(Ente, ente_id)
            if ente is None:
                continue
            code = ente.code
            try:
                outcomes = fetch_fdr_flows(db.session, ente, actor, client)
            except FdrRestError as exc:
                db.session.rollback()
                log.warning("fetch_fdr_job: ente %s: %s", code, exc.message)
                done.append({"ente": code, "error": exc.message})
                continue
            db.session.commit()
            for o in outcomes:
                if o.status in ("refused", "error"):
                    log.warning("fetch_fdr_job: ente %s, flusso %s: %s", code, o.identifier, o.message)
            done.append({"ente": code, "flows": [o.as_json() for o in outcomes]})
    return done
