"""The daily job (cancellation requests of paid fermi) and the commands."""

from __future__ import annotations

import json


def test_periodic_job_and_commands(app) -> None:
    from app.procedures.tasks import PERIODIC_JOBS, request_fermo_cancellations

    assert [name for name, *_ in PERIODIC_JOBS] == ["app.procedures.tasks.request_fermo_cancellations"]
    assert (
        request_fermo_cancellations.__module__ + "." + request_fermo_cancellations.__name__
        == PERIODIC_JOBS[0][0]
    )
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["procedure", "cancella-fermi", "--data", "2026-12-01"], catch_exceptions=False
    )
    assert result.exit_code == 0 and json.loads(result.stdout) == {"date": "2026-12-01", "requested": []}
    result = runner.invoke(args=["procedure", "veicoli", "RSSMRA80A01H501U"])
    assert result.exit_code == 2 and "PRA_API_URL" in result.stdout


def test_the_next_run_is_scheduled_once(app) -> None:
    from rq.registry import ScheduledJobRegistry

    from app.core.jobs import queue
    from app.procedures.tasks import PERIODIC_QUEUE, schedule_cancellations

    with app.app_context():
        job_id = schedule_cancellations()
        assert schedule_cancellations() == job_id  # the same id: one job
        q = queue(PERIODIC_QUEUE)
        registry = ScheduledJobRegistry(queue=q)
        try:
            assert job_id.startswith("procedure-cancellazioni-") and job_id in registry.get_job_ids()
        finally:
            registry.remove(job_id, delete_job=True)
