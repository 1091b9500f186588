"""The layer rules of docs/architecture.md (contracts in pyproject.toml), checked by import-linter."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"]


def lint(tree: Path) -> subprocess.CompletedProcess:
    # Run from the tree so its packages (not the installed ones) are the ones analysed.
    return subprocess.run([*LINT, "--config", str(tree / "pyproject.toml"), "--no-cache"], cwd=tree,
                          capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(tree)})


def test_every_layer_contract_is_kept():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_a_forbidden_import_breaks_the_contracts(tmp_path):
    """The contracts can fail: a copy of the tree in which parsing imports the warehouse, and the
    app a parser module, is refused with both contracts named."""
    for name in ("pipeline", "assets", "app", "pyproject.toml"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    sniff = tmp_path / "pipeline" / "parse" / "sniff.py"
    sniff.write_text(sniff.read_text() + "\nfrom pipeline.store import warehouse  # noqa\n")
    charts = tmp_path / "app" / "charts.py"
    charts.write_text(charts.read_text() + "\nfrom pipeline.parse import fastpath  # noqa\n")
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "intake, parse and the posture probes never touch the warehouse BROKEN" in result.stdout
    assert "the app reads only through pipeline.read BROKEN" in result.stdout
