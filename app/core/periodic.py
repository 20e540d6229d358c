"""The one registry of periodic jobs: name, schedule (cron-like, Europe/Rome), callable, queue and expected
maximum duration. The batch monitor (`app/batch/`) lists it, records every run and schedules the next one.

Slices declare their jobs as a module-level `PERIODIC_JOBS` tuple in their tasks.py, each entry

    ("app.slice.tasks.function", "descrizione in italiano", "cron", expected_max_minutes)

(the last two optional: without a cron the job is listed and can be run now or at a given time, but is not
scheduled by the registry). The registry reads the tuples of the modules in `PERIODIC_MODULES` (a new slice
appends its tasks module there), or a slice calls `register(...)` at import. The job id of a scheduled run
names the job and its minute, so scheduling the same run twice enqueues it once.

Cron syntax: five fields, minute hour day-of-month month day-of-week (0 or 7 = Sunday), each `*`, a number,
a range `a-b`, a list `a,b`, a step `*/n` or `a-b/n`; evaluated in Europe/Rome (a run in the hour that
does not exist at the spring DST change is skipped, the autumn one runs once).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")
PERIODIC_QUEUE = "periodic"
DEFAULT_MAX_MINUTES = 60
#: The tasks modules whose PERIODIC_JOBS tuples make the registry (a new slice adds its module at the end).
PERIODIC_MODULES: list[str] = [
    "app.payments.tasks",
    "app.crm.messages.tasks",
    "app.helpdesk.tasks",
    "app.archive.tasks",
    "app.analytics.tasks",
    "app.procedures.tasks",
    "app.registries.tasks",
    "app.plans.tasks",
    "app.escalation.tasks",
    "app.atti.delivery.tasks",
]
_REGISTERED: dict[str, PeriodicJob] = {}

_FIELDS = (
    ("minuto", 0, 59),
    ("ora", 0, 23),
    ("giorno", 1, 31),
    ("mese", 1, 12),
    ("giorno della settimana", 0, 7),
)


class CronError(ValueError):
    """A cron expression that cannot be read; the message (Italian) says where."""


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        parts = (text or "").split()
        if len(parts) != 5:
            raise CronError(
                f"Pianificazione «{text}»: servono cinque campi (minuto ora giorno mese settimana)."
            )
        sets = [_parse_field(part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)]
        weekdays = frozenset(0 if d == 7 else d for d in sets[4])
        return cls(text, sets[0], sets[1], sets[2], sets[3], weekdays, parts[2] == "*", parts[4] == "*")

    def _day_matches(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        dom = day.day in self.days
        dow = (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:  # standard cron: both restricted means either
            return dom and dow
        return dom or dow

    def next_after(self, after: dt.datetime) -> dt.datetime:
        """The first matching minute strictly after `after` (aware), as an aware datetime in UTC."""
        local = after.astimezone(ROME).replace(second=0, microsecond=0, tzinfo=None) + dt.timedelta(minutes=1)
        day = local.date()
        for _ in range(366 * 5):
            if self._day_matches(day):
                start = local.time() if day == local.date() else dt.time(0, 0)
                for hour in sorted(h for h in self.hours if h >= start.hour):
                    for minute in sorted(self.minutes):
                        if hour == start.hour and minute < start.minute:
                            continue
                        candidate = dt.datetime.combine(day, dt.time(hour, minute))
                        aware = _rome_aware(candidate)
                        if aware is not None and aware > after:
                            return aware.astimezone(dt.UTC)
            day += dt.timedelta(days=1)
        raise CronError(f"Pianificazione «{self.text}»: nessuna esecuzione nei prossimi cinque anni.")


def _rome_aware(local: dt.datetime) -> dt.datetime | None:
    """`local` in Rome; None for a wall time that does not exist (spring DST gap)."""
    aware = local.replace(tzinfo=ROME)
    back = aware.astimezone(dt.UTC).astimezone(ROME).replace(tzinfo=None)
    return aware if back == local else None


def _parse_field(part: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for item in part.split(","):
        base, _, step_text = item.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if base == "*":
                start, end = low, high
            elif "-" in base:
                a, b = base.split("-", 1)
                start, end = int(a), int(b)
            else:
                start = end = int(base)
                if step_text:
                    end = high
        except ValueError:
            raise CronError(f"Pianificazione: campo {name} «{part}» non valido.") from None
        if step < 1 or start < low or end > high or start > end:
            raise CronError(f"Pianificazione: campo {name} «{part}» fuori dall'intervallo {low}-{high}.")
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class PeriodicJob:
    name: str  # the dotted path of the callable: unique
    description: str
    cron: Cron | None
    queue: str = PERIODIC_QUEUE
    max_duration: dt.timedelta = field(default=dt.timedelta(minutes=DEFAULT_MAX_MINUTES))

    @property
    def func(self) -> Callable[..., Any]:
        module, _, attr = self.name.rpartition(".")
        return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]

    @property
    def slug(self) -> str:
        return self.name.removeprefix("app.").replace(".", "-").replace("_", "-")

    def next_run(self, after: dt.datetime) -> dt.datetime | None:
        return self.cron.next_after(after) if self.cron else None

    def call(self) -> Any:
        """Run the callable once (the registry, not the job, schedules the next run)."""
        return self.func()


def entry(item: tuple[Any, ...], queue: str = PERIODIC_QUEUE) -> PeriodicJob:
    """A PERIODIC_JOBS tuple (2 to 4 items) as a PeriodicJob."""
    path, description, *rest = item
    cron = Cron.parse(rest[0]) if rest and rest[0] else None
    minutes = int(rest[1]) if len(rest) > 1 and rest[1] else DEFAULT_MAX_MINUTES
    return PeriodicJob(str(path), str(description), cron, queue, dt.timedelta(minutes=minutes))


def register(
    path: str,
    description: str,
    cron: str | None = None,
    max_minutes: int = DEFAULT_MAX_MINUTES,
    queue: str = PERIODIC_QUEUE,
) -> PeriodicJob:
    """Register a periodic job from code (the alternative to a PERIODIC_JOBS tuple)."""
    job = entry((path, description, cron, max_minutes), queue)
    _REGISTERED[job.name] = job
    return job


def registry() -> dict[str, PeriodicJob]:
    """Every periodic job, by name: the PERIODIC_JOBS tuples of PERIODIC_MODULES, then `register`ed ones."""
    jobs: dict[str, PeriodicJob] = {}
    for module_name in PERIODIC_MODULES:
        module = importlib.import_module(module_name)
        queue = getattr(module, "PERIODIC_QUEUE", PERIODIC_QUEUE)
        for item in getattr(module, "PERIODIC_JOBS", ()):
            job = entry(item, queue)
            jobs[job.name] = job
    jobs.update(_REGISTERED)
    return jobs


def get(name: str) -> PeriodicJob | None:
    return registry().get(name)


#: The help of the slices' old `--pianifica` flags, kept as an alias that only points to the registry.
PIANIFICA_HELP = "Il lavoro è nel registro dei lavori periodici: lo mostra «esattoria batch elenco»."


def registry_notice(*names: str) -> str:
    """What a slice's `--pianifica` prints now (JSON): its jobs run from the registry, with their cron, and
    how to see and start the schedules (the batch monitor, `esattoria batch ...`)."""
    jobs = registry()
    notice = {
        "pianificato_da": "registro dei lavori periodici",
        "lavori": [
            {"name": name, "cron": (job.cron.text if job.cron else None) if (job := jobs.get(name)) else None}
            for name in names
        ],
        "elenco": "esattoria batch elenco",
        "avvio": "esattoria batch pianifica (lo fa anche il worker all'avvio)",
    }
    return json.dumps(notice, ensure_ascii=False)


def scheduled_job_id(job: PeriodicJob, run_at: dt.datetime) -> str:
    return f"periodico-{job.slug}-{run_at.astimezone(dt.UTC):%Y%m%d%H%M}"
