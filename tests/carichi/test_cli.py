"""`esattoria carichi import` (formats.md §5): exactly the JSON summary; exit 0 if accepted, 1 if refused."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from app.extensions import db
from app.positions.models import Position
from tests.carichi.support import csv_bytes, fixed_record, row
from tests.carichi.test_formats import _fixed_values

KEYS = ["carico", "accepted", "rejected", "duplicates", "status"]


def _invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["carichi", *args])


def _write(tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_import_prints_the_summary_and_exits_0_even_with_rejected_rows(ctx, tmp_path: Path) -> None:
    path = _write(tmp_path, "lista.csv", csv_bytes([row(n) for n in range(1, 21)] + [row(21, cap="1")]))
    result = _invoke(ctx, "import", path, "--ente", "R01", "--entrata", "TASSA_AUTO")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert list(summary) == KEYS
    assert summary["accepted"] == 20 and summary["rejected"] == 1 and summary["duplicates"] == 0
    assert summary["status"] == "caricato" and isinstance(summary["carico"], int)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Position).where(Position.carico_id == summary["carico"])
        )
        == 20
    )


def test_the_same_file_again_exits_1_as_a_duplicate(ctx, tmp_path: Path) -> None:
    path = _write(tmp_path, "lista.csv", csv_bytes([row(1)]))
    assert _invoke(ctx, "import", path, "--ente", "R01", "--entrata", "TASSA_AUTO").exit_code == 0
    again = _invoke(ctx, "import", path, "--ente", "R01", "--entrata", "TASSA_AUTO")
    assert again.exit_code == 1
    assert json.loads(again.stdout) == {
        "carico": None,
        "accepted": 0,
        "rejected": 0,
        "duplicates": 0,
        "status": "duplicato",
    }
    assert "File già caricato" in again.stderr


def test_a_refused_file_exits_1_with_the_reason_on_stderr(ctx, tmp_path: Path) -> None:
    path = _write(tmp_path, "errata.csv", csv_bytes([row(1, cap="x"), row(2)]))
    result = _invoke(ctx, "import", path, "--ente", "R01", "--entrata", "TASSA_AUTO")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert list(summary) == KEYS and summary["status"] == "rifiutato" and summary["carico"] is None
    assert "oltre il limite del 5%" in result.stderr


def test_an_unknown_ente_or_entrata_is_refused(ctx, tmp_path: Path) -> None:
    path = _write(tmp_path, "lista.csv", csv_bytes([row(1)]))
    result = _invoke(ctx, "import", path, "--ente", "R99", "--entrata", "TASSA_AUTO")
    assert result.exit_code == 1 and json.loads(result.stdout)["status"] == "rifiutato"
    assert "Ente sconosciuto" in result.stderr
    result = _invoke(ctx, "import", path, "--ente", "R02", "--entrata", "CANONI")
    assert result.exit_code == 1 and "Entrata CANONI non prevista per l'ente R02" in result.stderr


def test_import_with_a_named_layout(ctx, tmp_path: Path) -> None:
    path = _write(tmp_path, "ruolo.txt", (fixed_record(_fixed_values(1)) + "\n").encode())
    result = _invoke(ctx, "import", path, "--ente", "R01", "--entrata", "TASSA_AUTO", "--layout", "ruolo-290")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accepted"] == 1


def test_layouts_lists_the_default_layouts(ctx) -> None:
    result = _invoke(ctx, "layouts")
    names = [json.loads(line)["name"] for line in result.stdout.splitlines()]
    assert {
        "canonico",
        "canonico-xlsx",
        "canonico-xml",
        "ruolo-290",
        "variazioni-anagrafiche",
        "variazioni-posizioni",
    } <= set(names)


def test_resume_runs_a_job_again(ctx, tmp_path: Path) -> None:
    from app.carichi import services
    from app.core.audit import Actor
    from app.jobs.files import store_path

    path = _write(tmp_path, "lista.csv", csv_bytes([row(1)]))
    target = services.resolve_target(db.session, ente_code="R01", entrata_code="TASSA_AUTO")
    job = services.create_import_job(
        db.session,
        Actor.system("t"),
        target,
        store_path(ctx.config["FILE_STORE"], path),
        "lista.csv",
        enqueue=False,
    )
    job.status = "running"  # as a worker killed halfway leaves it
    db.session.commit()
    result = _invoke(ctx, "resume", str(job.id))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "caricato"
