#!/usr/bin/env bash
# Sets up and serves Proofmark with granian (a Rust HTTP server: connections, slow or idle
# clients and request bodies are handled asynchronously, so they never hold one of the
# threads that run the app; see site/serving.py), with the embedded defaults: SQLite in the instance folder,
# email written to the instance outbox.
#
# Demo mode (the default here) serves http://127.0.0.1:5000 only: anyone who can reach a demo
# can place orders. Production: FLASK_DEMO=false, with HOST/PORT/WORKERS/THREADS as needed
# (README, "Serving and production"). Every variable this reads is listed in README, "Environment
# variables of the run command".
set -euo pipefail
cd "$(dirname "$0")/.."
export INSTANCE_PATH="${INSTANCE_PATH:-$(pwd)/instance}"
export FLASK_DEMO="${FLASK_DEMO:-true}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-5000}"
WORKERS="${WORKERS:-2}"
THREADS="${THREADS:-4}"
# Links in emails and the printed staff URL: FLASK_PUBLIC_URL, else the address served here.
if [ -z "${FLASK_PUBLIC_URL:-}" ]; then
  case "$HOST" in
    0.0.0.0|::) public_host="$(hostname -f 2>/dev/null || hostname)" ;;
    *:*) public_host="[$HOST]" ;;
    *) public_host="$HOST" ;;
  esac
  export FLASK_PUBLIC_URL="http://$public_host:$PORT"
  echo "run: links in emails point at $FLASK_PUBLIC_URL (set FLASK_PUBLIC_URL to change it)."
fi
case "$(printf '%s' "$FLASK_DEMO" | tr '[:upper:]' '[:lower:]')" in
  true|1|yes)
    if [ "$HOST" != "127.0.0.1" ] && [ "$HOST" != "::1" ] && [ "$HOST" != "localhost" ]; then
      echo "run: demo mode serves this computer only (127.0.0.1); HOST=$HOST is refused." >&2
      echo "run: for a public site set FLASK_DEMO=false (see README, 'Running in production')." >&2
      exit 2
    fi
    echo "run: DEMO MODE on http://$HOST:$PORT (loopback only: other computers cannot connect)."
    echo "run: /dev/outbox shows the emails to signed-in staff; the demo staff login is printed below once."
    ;;
  *)
    echo "run: production mode on http://$HOST:$PORT ($WORKERS workers x $THREADS threads)."
    ;;
esac
# PROOFMARK_SKIP_SETUP=1: the tests and benchmarks, which have just run setup themselves.
[ "${PROOFMARK_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh
.venv/bin/proofmark init-instance
.venv/bin/proofmark init-db
.venv/bin/proofmark seed-demo
# RSGI (granian's own interface, cheaper per request than ASGI; GRANIAN_INTERFACE=asgi serves
# the same app over ASGI): granian reads requests asynchronously and proofmark.serving hands
# each complete one to one of THREADS threads per worker (site/serving.py says why).
export THREADS
export GRANIAN_INTERFACE="${GRANIAN_INTERFACE:-rsgi}"
# Two malloc arenas per worker instead of eight per core: the threads' freed scene-building
# memory returns to a shared heap that malloc_trim (after each scene build) gives back.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec .venv/bin/granian --host "$HOST" --port "$PORT" \
  --workers "$WORKERS" --no-ws --respawn-failed-workers --workers-kill-timeout 30 \
  proofmark.wsgi:asgi_app
