#!/usr/bin/env bash
# Regenerate requirements.lock: every package `pip install -e ".[dev]"` needs, with its
# hashes, for Python 3.11 on Linux x86_64. scripts/setup.sh installs exactly this file.
#
#   bash scripts/lock.sh            lock the versions installed in .venv now, i.e. the
#                                   environment the tests passed in. After changing the
#                                   dependencies in pyproject.toml: pip install -e ".[dev]"
#                                   into .venv, run pytest, then lock.
#   bash scripts/lock.sh --upgrade  the newest versions pyproject's ranges allow; then run
#                                   scripts/setup.sh and pytest before committing the lock.
#
# pip-compile (pip-tools, pinned here) runs from a throwaway venv and finds packages through
# pip's own configuration, as `pip install` does; a few minutes, mostly hashing wheels. It
# records the hash of every file of each pinned version (uv 0.13.9 recorded a single wheel,
# not the one pip installs and varying with index order, for packages that ship one wheel
# per Python version, such as multiprocess).
# The lock names no index: find-links must hold the CPU torch (see STACK.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PIP_TOOLS="pip==26.3 pip-tools==7.7.0"
LOCK=requirements.lock

case "${1:-}" in
  "") mode=installed ;;
  --upgrade) mode=upgrade ;;
  *) echo "usage: bash scripts/lock.sh [--upgrade]" >&2; exit 2 ;;
esac
[ -x .venv/bin/pip ] || { echo "lock: no .venv (run bash scripts/setup.sh)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/tools"
# shellcheck disable=SC2086
"$tmp/tools/bin/pip" install --quiet $PIP_TOOLS

if [ "$mode" = installed ]; then
  .venv/bin/pip freeze --all --exclude-editable > "$tmp/installed.txt"
  versions=(--constraint "$tmp/installed.txt")
else
  versions=(--upgrade)
fi
"$tmp/tools/bin/pip-compile" pyproject.toml --extra dev --quiet "${versions[@]}" \
  --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
  --no-header --no-annotate --output-file "$tmp/lock.txt"
{
  echo "# Exact versions and hashes of cryptodrug's dependencies (dev extra included) for"
  echo "# Python 3.11 on Linux x86_64. Made by scripts/lock.sh ($PIP_TOOLS); do not edit."
  echo "# Installed by scripts/setup.sh: pip install -r $LOCK, then the project with --no-deps."
  cat "$tmp/lock.txt"
} > "$LOCK"
echo "lock: $(grep -c '^[a-z0-9]' "$LOCK") packages -> $LOCK ($mode versions)"
