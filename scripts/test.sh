#!/usr/bin/env bash
# The README's second command (and what .ci/run calls): set up if needed, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -q "$@"
