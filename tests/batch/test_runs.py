"""Each run of a periodic job recorded (start, end, outcome, duration, error); the next run of a scheduled
one enqueued by its cron; a run that fails or overruns its expected duration alerts by e-mail (the local SMTP
sink); a mass job programmed for a later time runs at its time (RQ scheduler with its clock moved)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.batch import sample_jobs
from tests.batch.conftest import FAILING, OK, SLOW, work
from tests.smtp import smtp_sink


def _subject(message) -> str:
    return " ".join(str(message["Subject"]).split())  # a long subject comes folded


def _runs(app, name: str | None = None):
    from app.batch.models import PeriodicRun
    from app.extensions import db

    with app.app_context():
        stmt = sa.select(PeriodicRun).order_by(PeriodicRun.id)
        if name:
            stmt = stmt.where(PeriodicRun.job_name == name)
        runs = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return runs


def test_a_scheduled_run_is_recorded_and_schedules_the_next(
    app, periodic_queue, sample_jobs_registered
) -> None:
    from app.batch.tasks import schedule_next
    from app.core import periodic

    job = periodic.get(OK)
    with app.app_context():
        job_id = schedule_next(job)
        assert schedule_next(job) == job_id  # idempotent: the id names the job and its minute
    # 06:00 in Rome on 04/12/2026 (the clock says 03/12 09:00 UTC)
    assert job_id == "periodico-tests-batch-sample-jobs-ok-job-202612040500"
    [scheduled] = periodic_queue.scheduled_job_registry.get_job_ids()
    assert scheduled == job_id
    # run it as the worker does when its time comes
    from rq.job import Job

    rq_job = Job.fetch(job_id, connection=periodic_queue.connection)
    periodic_queue.enqueue_job(rq_job)
    periodic_queue.scheduled_job_registry.remove(rq_job)
    work(app, periodic_queue)
    [run] = _runs(app, OK)
    assert (run.trigger, run.status, run.error, run.overran, run.rq_job_id) == (
        "cron",
        "ok",
        None,
        False,
        job_id,
    )
    assert run.duration_ms == 2500 and run.finished_dt - run.started_dt == dt.timedelta(seconds=2.5)
    assert sample_jobs.CALLS == [{"job": "ok"}]  # called once; the registry schedules the next run
    # the next run: the following morning
    assert periodic_queue.scheduled_job_registry.get_job_ids() == [
        "periodico-tests-batch-sample-jobs-ok-job-202612050500"
    ]
    # the same slot delivered twice (a retried RQ job) records nothing more
    periodic_queue.enqueue_job(rq_job)
    work(app, periodic_queue)
    assert len(_runs(app, OK)) == 1 and len(sample_jobs.CALLS) == 1


def test_failure_and_overrun_alert_by_email(app, monkeypatch, periodic_queue, sample_jobs_registered) -> None:
    from app.batch import services, tasks
    from app.core import periodic
    from app.core.audit import Actor
    from app.extensions import db

    monkeypatch.setitem(app.config, "BATCH_ALERT_TO", "esercizio@esempio.it, turno@esempio.it")
    with smtp_sink() as sink:
        for key, value in sink.settings.items():
            monkeypatch.setitem(app.config, key, value)
        with app.app_context():
            ids = []
            for name in (FAILING, SLOW, OK):
                run = services.request_run(db.session, Actor.system("test"), periodic.get(name))
                db.session.commit()
                ids.append(run.id)
                tasks.enqueue_run(run.id, name, None)
        work(app, periodic_queue)
        failed, slow = sink.wait_for(2)
    runs = {r.job_name: r for r in _runs(app) if r.job_name in (FAILING, SLOW, OK)}
    assert runs[FAILING].status == "failed" and runs[FAILING].alert_sent
    assert runs[FAILING].error == "RuntimeError: Servizio FdR non raggiungibile"
    assert runs[SLOW].status == "ok" and runs[SLOW].overran and runs[SLOW].alert_sent
    assert runs[SLOW].duration_ms == 7 * 60 * 1000
    assert runs[OK].status == "ok" and not runs[OK].overran and not runs[OK].alert_sent
    assert all(r.trigger == "manual" for r in runs.values())
    assert _subject(failed) == "[Esattoria] Lavoro periodico non riuscito: lavoro di prova che fallisce"
    assert "Servizio FdR non raggiungibile" in failed.get_content()
    assert failed["To"] == "esercizio@esempio.it, turno@esempio.it"
    assert _subject(slow) == "[Esattoria] Lavoro periodico oltre la durata attesa: lavoro di prova lento"
    body = slow.get_content()
    assert "Durata: 7 min 0 s" in body and "Durata massima attesa: 5 min 0 s" in body
    assert len(sink.messages) == 2  # no alert for the run that went well
    # a manual run schedules nothing
    assert periodic_queue.scheduled_job_registry.get_job_ids() == []


def test_a_programmed_run_waits_for_its_time(
    app, monkeypatch, personas, periodic_queue, sample_jobs_registered
) -> None:
    import rq.scheduler
    from rq.scheduler import RQScheduler

    from app.core.jobs import connection
    from tests.conftest import csrf_token

    client = personas.client("admin")
    token = csrf_token(client, "/amministrazione/batch/")
    past = client.post(
        "/amministrazione/batch/programma",
        data={"job": SLOW, "run_at": "2026-12-03T08:00", "csrf_token": token},
    )
    assert past.status_code == 422 and "devono essere nel futuro" in past.get_data(as_text=True)
    response = client.post(
        "/amministrazione/batch/programma",
        data={"job": SLOW, "run_at": "2027-01-15T22:00", "csrf_token": token},
    )
    assert response.status_code == 302
    [run] = _runs(app, SLOW)
    assert (run.status, run.trigger, run.scheduled_for) == (
        "scheduled",
        "at",
        dt.datetime(2027, 1, 15, 21, 0, tzinfo=dt.UTC),
    )
    assert "Pianificata" in client.get("/amministrazione/batch/").get_data(as_text=True)

    def scheduler_at(when: dt.datetime) -> None:
        monkeypatch.setattr(rq.scheduler, "current_timestamp", lambda: int(when.timestamp()))
        with app.app_context():
            scheduler = RQScheduler(["periodic"], connection=connection(app))
            scheduler.prepare_registries(["periodic"])
            scheduler.enqueue_scheduled_jobs()
        work(app, periodic_queue)

    scheduler_at(dt.datetime(2027, 1, 15, 20, 59, tzinfo=dt.UTC))
    assert _runs(app, SLOW)[0].status == "scheduled" and sample_jobs.CALLS == []
    scheduler_at(dt.datetime(2027, 1, 15, 21, 0, tzinfo=dt.UTC))
    [run] = _runs(app, SLOW)
    assert run.status == "ok" and sample_jobs.CALLS == [{"job": "slow"}]


def test_a_cancelled_programmed_run_does_not_run(
    app, personas, periodic_queue, sample_jobs_registered
) -> None:
    from tests.conftest import csrf_token

    client = personas.client("admin")
    token = csrf_token(client, "/amministrazione/batch/")
    client.post(
        "/amministrazione/batch/programma",
        data={"job": OK, "run_at": "2027-01-15T22:00", "csrf_token": token},
    )
    [run] = _runs(app, OK)
    response = client.post("/amministrazione/batch/annulla", data={"run_id": run.id, "csrf_token": token})
    assert response.status_code == 302
    from app.batch.tasks import run_periodic

    with app.app_context():
        assert run_periodic(OK, run.id) is None  # a job that still starts finds it cancelled
    assert _runs(app, OK)[0].status == "cancelled" and sample_jobs.CALLS == []


@pytest.mark.parametrize("username", ["backoffice", "regione", "sportello"])
def test_the_monitor_is_for_administrators(personas, username: str) -> None:
    assert personas.client(username).get("/amministrazione/batch/").status_code == 403
