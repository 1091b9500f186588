#!/usr/bin/env bash
# Create .venv with the locked dependencies (requirements.lock) and the `tlsrpt` command.
# Idempotent: a second run with an unchanged lock file only checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "error: Python 3.11 is required (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
    exit 2
fi

stamp=.venv/.installed-lock
want=$(sha256sum requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/tlsrpt ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    exit 0
fi

echo "setting up .venv (Python $("$PYTHON" -c 'import platform; print(platform.python_version())'), locked dependencies)..."
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
# Bytecode at install time: without .pyc files Dagster's start-up takes 3x longer.
.venv/bin/uv pip sync --quiet --python .venv/bin/python --compile-bytecode requirements.lock
.venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps -e .
echo "$want" > "$stamp"
echo "environment ready: .venv (tlsrpt, duckdb shell, dagster)"
