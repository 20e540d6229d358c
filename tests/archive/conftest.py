from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask


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
