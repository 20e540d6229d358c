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


def test_pianifica_only_points_to_the_registry(app) -> None:
    result = app.test_cli_runner().invoke(args=["procedure", "cancella-fermi", "--pianifica"])
    assert result.exit_code == 0
    notice = json.loads(result.stdout)
    assert notice["lavori"] == [
        {"name": "app.procedures.tasks.request_fermo_cancellations", "cron": "30 6 * * *"}
    ]
