#!/usr/bin/env bash
# Installs everything Proofmark needs on a fresh Debian 12 machine (Python 3.11, Node 20, root)
# and prepares the instance folder. Safe and fast to run again: it skips what is already there
# and never touches existing data.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3

# System libraries: FriBiDi for Pillow's Raqm text layout (bidi, shaping).
need_apt=()
dpkg -s libfribidi0 >/dev/null 2>&1 || need_apt+=(libfribidi0)
dpkg -s libharfbuzz0b >/dev/null 2>&1 || need_apt+=(libharfbuzz0b)
if [ "${WITH_BROWSER:-0}" = 1 ] && [ ! -x /usr/bin/chromium ]; then need_apt+=(chromium); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: not root; install these with apt-get yourself: ${need_apt[*]}" >&2
  fi
fi

# Python packages: every one pinned, with its hashes, in requirements/<run|test>.lock (made from
# pyproject.toml by `bash scripts/lock.sh`), then Proofmark itself as an editable package.
# Reinstalled only when a lock file or pyproject.toml changes.
lock="requirements/${PIP_LOCK:-run}.lock"
stamp=".venv/.proofmark-$(basename "$lock")"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# test.lock is run.lock plus the test tools (same pins: tests/test_packaging.py checks), so a
# virtualenv set up for the tests already satisfies `run`: its stamp counts for both.
fresh() { [ -f "$1" ] && [ ! "$2" -nt "$1" ] && [ ! pyproject.toml -nt "$1" ]; }
if fresh "$stamp" "$lock"; then
  :
elif [ "$lock" = requirements/run.lock ] && fresh .venv/.proofmark-test.lock requirements/test.lock \
  && [ ! requirements/run.lock -nt .venv/.proofmark-test.lock ]; then
  echo "setup: Python packages already installed from requirements/test.lock (a superset of run.lock)"
else
  echo "setup: installing Python packages from $lock"
  .venv/bin/pip install -q --disable-pip-version-check -r "$lock"
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -e .
  touch "$stamp"
fi

# Front-end assets and fonts from npm (package-lock.json); reinstalled only when the lock changes.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Translations: the .po catalogs in site/translations are compiled to .mo here (and by the wheel
# build, setup.py); the .mo files are build output, not committed. Recompiled when a .po changes.
for po in site/translations/*/LC_MESSAGES/messages.po; do
  [ -f "$po" ] || continue
  mo="${po%.po}.mo"
  if [ ! -f "$mo" ] || [ "$po" -nt "$mo" ]; then
    .venv/bin/pybabel compile -i "$po" -o "$mo" >/dev/null 2>&1 || { echo "setup: cannot compile $po" >&2; exit 1; }
  fi
done
