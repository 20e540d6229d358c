from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask


@pytest.fixture
def store(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """A file store of this test's own: what a test stores (or refuses) is seen there alone."""
    saved = app.config["FILE_STORE"]
    app.config["FILE_STORE"] = str(tmp_path / "store")
    try:
        yield tmp_path / "store"
    finally:
        app.config["FILE_STORE"] = saved


@pytest.fixture
def cli(app: Flask, store: Path) -> Any:
    """Run `esattoria ...` in-process; returns (exit code, parsed JSON of stdout)."""
    import json

    runner = app.test_cli_runner()

    def run(*args: str) -> tuple[int, Any]:
        result = runner.invoke(args=list(args), catch_exceptions=False)
        out = result.stdout.strip()
        return result.exit_code, (json.loads(out) if out else None)

    return run
