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
