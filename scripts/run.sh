#!/usr/bin/env bash
# Starts the job worker and the web app on the embedded defaults; Ctrl-C stops both and the embedded Redis.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
LOG=${INSTANCE_DIR:-instance}/worker.log
mkdir -p "$(dirname "$LOG")"
# web app and worker share one embedded Redis: whichever needs it first starts it, the last one out stops it
$BIN/esattoria worker >"$LOG" 2>&1 &
WORKER=$!
stop() {
  kill -TERM "$WORKER" 2>/dev/null; wait "$WORKER" 2>/dev/null
  $BIN/python -c 'from config import load_config; from app.core.jobs import stop_embedded; c = load_config(); c.REDIS_URL or stop_embedded(c.INSTANCE_DIR)'
}
trap stop EXIT INT TERM
cat <<MSG

  Esattoria è pronta: http://$HOST:$PORT/
  Utenti demo (password: demo-esattoria):
    admin         Amministratore (tutti gli enti)
    backoffice    Back office (R01, R02)
    sportello     Sportello (R01, R02)
    callcenter    Call center (R01, R02)
    regione       Regione Demo (solo R01)
    regione2      Regione Seconda (solo R02)
    contribuente  Mario Rossi, RSSMRA80A01H501U (area personale)
  Worker dei lavori in background: PID $WORKER (log in $LOG)

MSG
$BIN/esattoria run --host "$HOST" --port "$PORT" --no-reload
