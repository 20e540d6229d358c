"""The verdicts of scripts/audit_deps.py (the pip-audit step of `make check`): a vulnerability fails, an
audit the network refused is a visible SKIP, never a silent pass."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_deps.py"
spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
assert spec and spec.loader
audit_deps = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_deps)


def dep(name: str, vulns: list | None = None, skip: str | None = None) -> dict:
    out: dict = {"name": name, "version": "1.0", "vulns": vulns or []}
    if skip:
        out["skip_reason"] = skip
    return out


def test_a_known_vulnerability_fails() -> None:
    vuln = {"id": "PYSEC-2099-1", "fix_versions": ["1.1"], "aliases": [], "description": ""}
    code, message = audit_deps.verdict({"dependencies": [dep("flask"), dep("jinja2", [vuln])]}, 1, "")
    assert code == 1 and "jinja2 1.0: PYSEC-2099-1 (fixed in 1.1)" in message


def test_a_clean_audit_passes_and_names_what_was_not_audited() -> None:
    code, message = audit_deps.verdict(
        {"dependencies": [dep("flask"), dep("private", skip="Dependency not found on PyPI")]}, 0, ""
    )
    assert code == 0 and "in 1 packages" in message and "1 not audited: private" in message


def test_a_refused_service_is_a_visible_skip() -> None:
    nothing = {"dependencies": [dep("flask", skip="not found"), dep("rq", skip="not found")]}
    code, message = audit_deps.verdict(nothing, 0, "")
    assert code == 0 and message.startswith("pip-audit: SKIPPED") and "nothing was audited" in message
    code, message = audit_deps.verdict(None, 1, "requests.exceptions.ConnectionError: Connection refused")
    assert code == 0 and "SKIPPED" in message


def test_any_other_failure_fails() -> None:
    code, message = audit_deps.verdict(None, 2, "usage: pip-audit: error: unrecognized arguments")
    assert code == 1 and "pip-audit failed" in message
