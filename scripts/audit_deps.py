"""pip-audit of the installed environment (`make check`).

Fails on any known vulnerability. pip-audit needs a vulnerability service (PyPI's JSON API by default); where
the network refuses it (a connection error, or every package answered "not found", as behind a registry
mirror that serves only the simple index), the audit is SKIPPED with a message saying so, never passed
silently. Any other failure of pip-audit fails the check.
"""

from __future__ import annotations

import json
import subprocess  # nosec B404 (runs pip-audit of this environment, fixed argv)
import sys
import tempfile
from pathlib import Path

BIN = Path(sys.executable).parent
NETWORK_ERRORS = (
    "ConnectionError",
    "Connection refused",
    "Max retries exceeded",
    "Name or service not known",
    "Temporary failure in name resolution",
    "Network is unreachable",
)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        done = subprocess.run(  # nosec B603 (fixed argv, no shell)
            [
                str(BIN / "pip-audit"),
                "--local",
                "--skip-editable",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(report),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        data = json.loads(report.read_text()) if report.exists() and report.stat().st_size else None
    code, message = verdict(data, done.returncode, done.stdout + done.stderr)
    print(message)
    return code


def verdict(data: dict | None, returncode: int, output: str) -> tuple[int, str]:
    """(exit code, message) of the check from pip-audit's JSON report (None: it wrote none)."""
    if data is None:
        if any(marker in output for marker in NETWORK_ERRORS):
            last = output.strip().splitlines()[-1] if output.strip() else ""
            return 0, (
                f"pip-audit: SKIPPED - the vulnerability service cannot be reached (network refused): {last}"
            )
        return 1, f"{output}\npip-audit failed (exit {returncode})"
    deps = data.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    unaudited = [d for d in deps if d.get("skip_reason")]
    if vulnerable:
        lines = [
            f"pip-audit: {d['name']} {d['version']}: "
            + ", ".join(f"{v['id']} (fixed in {', '.join(v.get('fix_versions') or ['-'])})" for v in vulns)
            for d in vulnerable
            for vulns in [d["vulns"]]
        ]
        return 1, "\n".join(lines)
    if deps and len(unaudited) == len(deps):
        return 0, (
            f"pip-audit: SKIPPED - the vulnerability service answered for none of the {len(deps)} installed "
            "packages (network refused, or a registry mirror without PyPI's JSON API): nothing was audited"
        )
    message = f"pip-audit: no known vulnerabilities in {len(deps) - len(unaudited)} packages"
    if unaudited:
        message += f" ({len(unaudited)} not audited: {', '.join(d['name'] for d in unaudited)})"
    return 0, message


if __name__ == "__main__":
    sys.exit(main())
