from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask


@pytest.fixture
def store(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """A file store of this test's own (the acts' PDFs)."""
    saved = app.config["FILE_STORE"]
    app.config["FILE_STORE"] = str(tmp_path / "store")
    try:
        yield tmp_path / "store"
    finally:
        app.config["FILE_STORE"] = saved
