#!/usr/bin/env bash
# Sets up and serves Proofmark on http://127.0.0.1:5000 with gunicorn and the embedded
# defaults: SQLite in the instance folder, email written to the instance outbox.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export INSTANCE_PATH="${INSTANCE_PATH:-$(pwd)/instance}"
# Demo mode: seeds the demo shop and staff login, shows /dev/outbox. Production sets FLASK_DEMO=false.
export FLASK_DEMO="${FLASK_DEMO:-true}"
.venv/bin/proofmark init-instance
.venv/bin/proofmark init-db
.venv/bin/proofmark seed-demo
exec .venv/bin/gunicorn --config scripts/gunicorn.conf.py
