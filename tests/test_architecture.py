"""Layering rules of style.md B.2, enforced by an AST scan of the sources."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMMIT_ALLOWED = {"routes.py", "tasks.py", "cli.py"}


def python_files(*parts: str) -> list[Path]:
    return sorted(ROOT.joinpath(*parts).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", python_files("app", "engine"), ids=lambda p: p.name)
def test_engine_imports_nothing_of_flask_sqlalchemy_or_the_app(path: Path) -> None:
    for module in imported_modules(path):
        top = module.split(".")[0]
        assert top not in {"flask", "sqlalchemy", "flask_sqlalchemy", "werkzeug", "redis", "rq"}, (
            path,
            module,
        )
        assert not (module.startswith("app.") and not module.startswith("app.engine")) and module != "app", (
            path,
            module,
        )


@pytest.mark.parametrize("path", python_files("app", "engine"), ids=lambda p: p.name)
def test_engine_reads_no_clock_and_uses_no_float(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    for forbidden in (
        "date.today",
        "datetime.now",
        "datetime.today",
        "datetime.utcnow",
        "os.environ",
        "time.time(",
    ):
        assert forbidden not in source, (path, forbidden)
    float_calls = [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float"
    ]
    assert float_calls == [], (path, float_calls)


@pytest.mark.parametrize("package", ["ocr", "search"])
def test_libraries_do_not_import_the_app(package: str) -> None:
    for path in python_files(package):
        for module in imported_modules(path):
            assert module.split(".")[0] not in {"app", "flask"}, (path, module)


def test_commits_only_in_routes_tasks_and_cli() -> None:
    offenders = []
    for path in python_files("app"):
        if path.name in COMMIT_ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "commit"
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_only_config_reads_the_environment() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in python_files("app")
        if "os.environ" in p.read_text(encoding="utf-8") or "getenv(" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_taxpayer_data_queries_go_through_the_scoping_helper() -> None:
    """Every queries.py that selects taxpayer data (Taxpayer, Position, Movement) calls `scoped(`."""
    for path in python_files("app"):
        if path.name != "queries.py":
            continue
        source = path.read_text(encoding="utf-8")
        touches = any(f"select({name}" in source for name in ("Taxpayer", "Position", "Movement"))
        if touches:
            assert "scoped(" in source, path
