#!/usr/bin/env bash
# `make check`, also run first by scripts/test.sh: ruff, bandit (config in pyproject.toml [tool.bandit]; each
# exception is a `# nosec BXXX` with its reason in the code) and pip-audit of the installed environment.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
status=0
echo "== ruff =="
$BIN/ruff check . || status=1
echo "== bandit =="
# bandit's own chatter about the reasons written after `# nosec BXXX` is dropped; findings go to stdout
$BIN/bandit -c pyproject.toml -r app ocr search -q \
  2> >(grep -v -e "nosec encountered" -e "Test in comment" >&2) && echo "bandit: no issues" || status=1
echo "== pip-audit =="
$BIN/python scripts/audit_deps.py || status=1
exit $status
