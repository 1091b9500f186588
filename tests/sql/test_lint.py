"""The SQL models pass sqlfluff (DuckDB dialect, settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_sql_models_pass_sqlfluff():
    result = subprocess.run(
        [sys.executable, "-m", "sqlfluff", "lint", "sql/"], cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:]
