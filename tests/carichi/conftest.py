from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask


@pytest.fixture
def store(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh file store for each test."""
    path = tmp_path / "store"
    monkeypatch.setitem(app.config, "FILE_STORE", str(path))
    return path


@pytest.fixture
def ctx(app: Flask, store: Path) -> Iterator[Flask]:
    """An app context with the test's file store (the session is the isolated one)."""
    with app.app_context():
        yield app
