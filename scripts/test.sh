#!/usr/bin/env bash
# Installs what is missing (Python test tools, npm assets, Debian's chromium) and runs the
# whole suite: ruff, unit, integration and browser (e2e) tests.
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_BROWSER=1 PIP_LOCK=test bash scripts/setup.sh
.venv/bin/ruff format --check .
.venv/bin/ruff check .
.venv/bin/lint-imports
exec .venv/bin/python -m pytest "$@"
