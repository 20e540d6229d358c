"""The registry of periodic jobs (app/core/periodic.py): every slice's PERIODIC_JOBS tuple is in it (the old
two-item shape still reads), cron expressions in Europe/Rome across the DST changes, refused expressions."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest

from app.core import periodic
from app.core.periodic import Cron, CronError

UTC = dt.UTC


def test_every_slice_tuple_is_in_the_registry_with_a_schedule() -> None:
    jobs = periodic.registry()
    for module_name in periodic.PERIODIC_MODULES:
        for item in importlib.import_module(module_name).PERIODIC_JOBS:
            job = jobs[item[0]]
            assert job.description == item[1] and job.cron is not None and job.queue == "periodic"
            assert callable(job.func)
    assert jobs["app.payments.tasks.daily_riversamento"].cron.text == "0 6 * * *"
    assert jobs["app.helpdesk.tasks.check_sla"].max_duration == dt.timedelta(minutes=5)


def test_every_module_with_periodic_jobs_is_in_the_registry() -> None:
    """A slice that declares PERIODIC_JOBS but is missing from PERIODIC_MODULES would never run."""
    import pathlib

    root = pathlib.Path(periodic.__file__).resolve().parents[2]
    declaring = {
        ".".join(path.relative_to(root).with_suffix("").parts)
        for path in (root / "app").rglob("*.py")
        if "\nPERIODIC_JOBS = (" in path.read_text(encoding="utf-8")
    }
    missing = declaring - set(periodic.PERIODIC_MODULES)
    assert declaring and not missing, missing


def test_a_two_item_tuple_still_reads_as_an_on_demand_job() -> None:
    job = periodic.entry(("app.jobs.tasks.healthcheck", "controllo del worker"))
    assert job.cron is None and job.next_run(dt.datetime.now(UTC)) is None
    assert job.max_duration == dt.timedelta(minutes=periodic.DEFAULT_MAX_MINUTES)


@pytest.mark.parametrize(
    ("cron", "after", "expected"),
    [
        (
            "*/5 * * * *",
            dt.datetime(2026, 12, 3, 11, 2, tzinfo=UTC),
            dt.datetime(2026, 12, 3, 11, 5, tzinfo=UTC),
        ),
        # 06:00 in Rome is 05:00 UTC in winter, 04:00 UTC in summer
        (
            "0 6 * * *",
            dt.datetime(2026, 12, 3, 11, 0, tzinfo=UTC),
            dt.datetime(2026, 12, 4, 5, 0, tzinfo=UTC),
        ),
        ("0 6 * * *", dt.datetime(2027, 7, 1, 3, 0, tzinfo=UTC), dt.datetime(2027, 7, 1, 4, 0, tzinfo=UTC)),
        # 02:30 does not exist on 28/03/2027 in Rome: the next one is the day after
        (
            "30 2 * * *",
            dt.datetime(2027, 3, 27, 12, 0, tzinfo=UTC),
            dt.datetime(2027, 3, 29, 0, 30, tzinfo=UTC),
        ),
        # day of month OR day of week when both are restricted (standard cron): Monday 07/12/2026
        (
            "0 9 1 * 1",
            dt.datetime(2026, 12, 3, 11, 0, tzinfo=UTC),
            dt.datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
        ),
        (
            "0 0 1 1 *",
            dt.datetime(2026, 12, 3, 11, 0, tzinfo=UTC),
            dt.datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
        ),
        (
            "15 7 * * 0",
            dt.datetime(2026, 12, 3, 11, 0, tzinfo=UTC),
            dt.datetime(2026, 12, 6, 6, 15, tzinfo=UTC),
        ),
    ],
)
def test_next_run_in_rome(cron: str, after: dt.datetime, expected: dt.datetime) -> None:
    assert Cron.parse(cron).next_after(after) == expected


@pytest.mark.parametrize("cron", ["", "* * * *", "61 * * * *", "*/0 * * * *", "a * * * *", "0 0 31 2-1 *"])
def test_unreadable_cron_is_refused_in_italian(cron: str) -> None:
    with pytest.raises(CronError, match="Pianificazione"):
        Cron.parse(cron)


def _app_sources() -> dict[str, str]:
    import pathlib

    root = pathlib.Path(periodic.__file__).resolve().parents[2]
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in (root / "app").rglob("*.py")}


def test_the_registry_is_the_only_schedule() -> None:
    """No slice keeps a self-rescheduling chain beside the registry: no job takes a `reschedule` flag, and
    only the batch monitor (app/batch/) enqueues at a time; a message's delivery checks (rounds with a
    growing wait) are a retry/backoff, not a periodic job."""
    import inspect

    for job in periodic.registry().values():
        assert "reschedule" not in inspect.signature(job.func).parameters, job.name
    marks = (".enqueue_at(", ".enqueue_in(", "\ndef schedule_")
    chains = {
        path
        for path, text in _app_sources().items()
        if not path.startswith("app/batch/")
        and path != "app/crm/messages/tasks.py"
        and any(m in text for m in marks)
    }
    assert chains == set(), chains


def test_each_job_is_listed_once() -> None:
    names = [item[0] for m in periodic.PERIODIC_MODULES for item in importlib.import_module(m).PERIODIC_JOBS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


# the old flag of each command, and the jobs it now names (app.<...>.tasks.<job>)
PIANIFICA_ALIASES = {
    "rateazioni controllo-decadenza --pianifica": "plans.tasks.daily_decadenza_check",
    "anagrafe aggiorna --pianifica": "registries.tasks.refresh_stale_checks",
    "pagamenti riversamento --pianifica": "payments.tasks.daily_riversamento",
    "pagamenti scarica-fdr --pianifica": "payments.tasks.fetch_fdr_job",
    "assistenza sla --schedule": "helpdesk.tasks.check_sla",
    "assistenza posta --pianifica": "helpdesk.tasks.poll_helpdesk_mailbox",
    "procedure cancella-fermi --pianifica": "procedures.tasks.request_fermo_cancellations",
    "archivio verifica --pianifica": "archive.tasks.verify_index",
    "archivio sweep --pianifica": "archive.tasks.sweep_intake",
    "archivio posta --pianifica": "archive.entrypoints.tasks.poll_mailbox",
    "analisi aggiorna --pianifica": "analytics.tasks.refresh_summary",
    "analisi pianificate --pianifica": "analytics.tasks.run_scheduled_queries",
    "atti send-stato --pianifica": "atti.delivery.tasks.poll_send_job",
    "escalation proposte --schedule": "escalation.tasks.daily_proposals escalation.tasks.daily_prescriptions "
    "escalation.tasks.weekly_radar_report",
}


@pytest.mark.parametrize(("command", "jobs"), PIANIFICA_ALIASES.items(), ids=list(PIANIFICA_ALIASES))
def test_the_old_pianifica_flags_only_point_to_the_registry(app, command: str, jobs: str) -> None:
    import json

    from rq.registry import ScheduledJobRegistry

    from app.core.jobs import queue

    with app.app_context():
        scheduled = ScheduledJobRegistry(queue=queue(periodic.PERIODIC_QUEUE))
        before = set(scheduled.get_job_ids())
    result = app.test_cli_runner().invoke(args=command.split())
    assert result.exit_code == 0, result.output
    notice = json.loads(result.stdout)
    registry = periodic.registry()
    names = [f"app.{job}" for job in jobs.split()]
    assert notice["lavori"] == [{"name": n, "cron": registry[n].cron.text} for n in names]
    assert notice["elenco"] == "esattoria batch elenco"
    with app.app_context():
        assert set(scheduled.get_job_ids()) == before  # nothing enqueued: the registry schedules
