"""app/engine is pure: no Flask, SQLAlchemy or app imports, no clock, no environment, no float, no global
Decimal context (style.md B.7)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[2] / "app" / "engine"
SOURCES = sorted(ENGINE.rglob("*.py"))
FORBIDDEN_TOP = {
    "flask",
    "sqlalchemy",
    "flask_sqlalchemy",
    "werkzeug",
    "redis",
    "rq",
    "holidays",
    "os",
    "time",
    "random",
}
FORBIDDEN_ATTRIBUTES = {
    ("date", "today"),
    ("datetime", "now"),
    ("datetime", "today"),
    ("datetime", "utcnow"),
    ("os", "environ"),
    ("os", "getenv"),
    ("decimal", "getcontext"),
    ("decimal", "setcontext"),
}
FORBIDDEN_NAMES = {"float", "getcontext", "setcontext"}


def test_there_are_engine_sources() -> None:
    assert len(SOURCES) >= 10


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_imports_are_stdlib_or_the_engine(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""] if node.level == 0 else []
        else:
            continue
        for module in modules:
            assert module.split(".")[0] not in FORBIDDEN_TOP, (path.name, module)
            assert (
                module == "app.engine"
                or module.startswith("app.engine.")
                or not (module == "app" or module.startswith("app."))
            ), (path.name, module)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_clock_no_environment_no_float(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert "float(" not in source
    for text in ("date.today", "datetime.now", "datetime.today", "os.environ"):
        assert text not in source, (path.name, text)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            base = node.value
            name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", None)
            assert (name, node.attr) not in FORBIDDEN_ATTRIBUTES, (path.name, name, node.attr)
        elif isinstance(node, ast.Name):
            assert node.id not in FORBIDDEN_NAMES, (path.name, node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, float):
            pytest.fail(f"{path.name}: float literal {node.value!r}")


def test_defaults_module_is_plain_data() -> None:
    path = ENGINE.parent / "enti" / "defaults.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    assert not [
        node for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, float)
    ]
