"""The bulk intake folder (ARCHIVE_INTAKE_DIR): scanner batches waiting in `<dir>/<ente code>/`, filed one by
one through `services.file_documents` (channel scansione) by `esattoria archivio sweep` and its periodic job,
then moved to `done/` or `refused/` (with the Italian reason beside it) after the commit. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.archive.services import FilingResult
from app.core.db import utcnow
from app.enti.models import Ente


@dataclass(frozen=True, slots=True)
class IntakeFile:
    ente: Ente
    path: Path


def intake_files(session: Session, root: str | Path) -> list[IntakeFile]:
    """The files waiting in `<root>/<ente code>/` (not in its done/ and refused/ subfolders), oldest first."""
    base = Path(root)
    if not base.is_dir():
        return []
    found: list[IntakeFile] = []
    enti = {e.code: e for e in session.scalars(sa.select(Ente))}
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        ente = enti.get(folder.name)
        if ente is None:
            continue
        files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
        found.extend(IntakeFile(ente, p) for p in sorted(files, key=lambda p: (p.stat().st_mtime, p.name)))
    return found


def move_swept(item: IntakeFile, result: FilingResult) -> Path:
    """After the commit: the file goes to done/ (filed or duplicate) or refused/ (with its reason beside)."""
    target_dir = item.path.parent / ("refused" if result.status == "refused" else "done")
    target_dir.mkdir(exist_ok=True)
    target = target_dir / item.path.name
    if target.exists():
        target = target_dir / f"{item.path.stem}-{utcnow():%Y%m%d%H%M%S%f}{item.path.suffix}"
    item.path.replace(target)
    if result.error:
        target.with_name(target.name + ".motivo.txt").write_text(result.error + "\n", encoding="utf-8")
    return target
