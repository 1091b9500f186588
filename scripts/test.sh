#!/usr/bin/env bash
# The README's second command (and what .ci/run calls): set up if needed, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The browser test drives Debian's chromium (a test tool's own browser download cannot work
# here). Install it when missing and we are allowed to (root, as on CI); otherwise that one
# test skips and says why.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser test..."
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
        || echo "warning: could not install chromium; the browser test will be skipped" >&2
fi
exec .venv/bin/python -m pytest -q "$@"
