#!/usr/bin/env bash
# Set up a fresh machine: a virtual environment with cryptodrug and its test tools, at the
# exact versions and hashes of requirements.lock (the environment the tests passed in;
# scripts/lock.sh remakes it). Headless Chromium (Debian package) is installed for the
# browser tests when apt is there.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet "pip==26.3"
.venv/bin/pip install --quiet --require-hashes -r requirements.lock
# built with the lock's setuptools, not the newest one fetched into an isolated build
.venv/bin/pip install --quiet --no-deps --no-build-isolation -e .
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
    || echo "setup: chromium not installed; browser tests will be skipped" >&2
fi
echo "setup: done. Activate with: . .venv/bin/activate"
