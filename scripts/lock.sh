#!/usr/bin/env bash
# Regenerates requirements/run.lock and requirements/test.lock from pyproject.toml's pins:
# every transitive dependency pinned with its hashes, so two machines install the same
# versions. Run it after changing a pin, and commit the lock files with the change.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${TMPDIR:-/tmp}/proofmark-lock-tools"
[ -x "$tools/bin/uv" ] || { python3 -m venv "$tools" && "$tools/bin/pip" install -q uv==0.13.8; }
for extra in run test; do
  args=()
  [ "$extra" = test ] && args=(--extra test)
  "$tools/bin/uv" pip compile pyproject.toml "${args[@]}" --python-version 3.11 --generate-hashes \
    --no-header --annotation-style line -q -o "requirements/$extra.lock"
done
echo "lock: wrote requirements/run.lock and requirements/test.lock"
