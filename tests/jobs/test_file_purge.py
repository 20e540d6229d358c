"""`esattoria files purge`: unreferenced uploads (previews never confirmed, partial uploads) older than the
limit are removed; a file a job or a riversamento names, or a recent one, is kept."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import time

from app.core.audit import Actor
from app.extensions import db
from app.jobs import services
from app.jobs.files import path_of, store_stream


def _age(store, relative: str, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path_of(store, relative), (then, then))


def test_purge_removes_only_old_unreferenced_files(ctx, store) -> None:
    confirmed = store_stream(store, io.BytesIO(b"lista confermata"))
    preview = store_stream(store, io.BytesIO(b"anteprima mai confermata"))
    recent = store_stream(store, io.BytesIO(b"anteprima di adesso"))
    partial = store / "tmp" / "tmpabc123"
    partial.write_bytes(b"caricamento interrotto")
    services.create_job(
        db.session,
        kind="carico",
        task="app.jobs.tasks.healthcheck",
        actor=Actor.system("t"),
        ente_id=None,
        file_path=confirmed.relative_path,
        enqueue=False,
    )
    db.session.flush()
    for relative in (confirmed.relative_path, preview.relative_path, "tmp/tmpabc123"):
        _age(store, relative, 48)
    now = dt.datetime.now(dt.UTC)

    dry = services.purge_files(
        db.session, str(store), older_than=dt.timedelta(hours=24), now=now, dry_run=True
    )
    assert dry.removed == sorted([preview.relative_path, "tmp/tmpabc123"]) and dry.kept == 2
    assert path_of(store, preview.relative_path).exists()

    purge = services.purge_files(db.session, str(store), older_than=dt.timedelta(hours=24), now=now)
    assert purge.removed == dry.removed
    assert not path_of(store, preview.relative_path).exists() and not partial.exists()
    assert path_of(store, confirmed.relative_path).exists() and path_of(store, recent.relative_path).exists()


def test_the_columns_naming_stored_files_are_marked(ctx) -> None:
    columns = {
        (t.name, c.name)
        for t in db.Model.metadata.sorted_tables
        for c in t.columns
        if c.info.get("stored_file")
    }
    assert columns == {
        ("act_print_batches", "file_path"),  # the print batches' ZIPs (acts' delivery)
        ("batch_jobs", "file_path"),
        ("documents", "file_path"),  # the archive's originals
        ("message_attachments", "file_path"),  # files attached to messages to taxpayers
        ("riversamenti", "csv_path"),
        ("riversamenti", "xml_path"),
    }


def test_cli_purge_prints_a_json_summary(ctx, store) -> None:
    old = store_stream(store, io.BytesIO(b"vecchia anteprima"))
    _age(store, old.relative_path, 30)
    result = ctx.test_cli_runner().invoke(args=["files", "purge", "--older-than-hours", "24"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"removed": 1, "kept": 0, "dry_run": False}
    assert not path_of(store, old.relative_path).exists()
