"""A regular install works, not only the editable one: the wheel carries every package, the SQL
models, schema.sql and the dashboard, and the code finds them through the installed packages.

Offline: the wheel is built with the setuptools of the test environment (no build isolation),
and the fresh venv gets the locked dependencies from the local uv cache that setup filled."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
UV = Path(sys.executable).parent / "uv"
# What a source checkout holds besides the package: never copied into the build tree.
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "data", "test-output", "bench-out", "build", "*.egg-info",
                                    "__pycache__", ".pytest_cache", "tests")


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{command[:3]}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the project's wheel and the locked dependencies; returns its bin/."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)  # build in a copy: the checkout stays clean
    run([str(UV), "build", "--wheel", "--offline", "--no-build-isolation", "--python", sys.executable,
         "--out-dir", str(base / "dist"), str(source)], cwd=base)
    (wheel,) = (base / "dist").glob("*.whl")
    venv = base / "venv"
    run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=base)
    python = str(venv / "bin" / "python")
    run([str(UV), "pip", "sync", "--quiet", "--offline", "--python", python, str(ROOT / "requirements.lock")], cwd=base)
    run([str(UV), "pip", "install", "--quiet", "--offline", "--no-deps", "--python", python, str(wheel)], cwd=base)
    return venv / "bin"


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "TLSRPT_", "VIRTUAL_ENV"))}


def test_the_installed_packages_and_their_files_come_from_the_wheel(installed: Path, tmp_path: Path):
    probe = ("import importlib.resources as r, pipeline, pipeline.alerts, pipeline.generate, pipeline.store, assets, app, sql;"
             "print(pipeline.__file__);"
             "print(r.files('pipeline.store').joinpath('schema.sql').is_file());"
             "print(r.files('app').joinpath('streamlit_app.py').is_file());"
             "from pipeline.transform.sql_models import load_models; print(len(load_models()))")
    lines = run([str(installed / "python"), "-c", probe], cwd=tmp_path, env=clean_env()).stdout.split()
    assert Path(lines[0]).is_relative_to(installed.parent), lines[0]  # not the checkout
    assert lines[1:3] == ["True", "True"]
    assert int(lines[3]) == len(list((ROOT / "sql").glob("*/*.sql")))


def test_help_and_a_small_ingest_from_outside_the_checkout(installed: Path, tmp_path: Path):
    tlsrpt, env = str(installed / "tlsrpt"), clean_env()
    assert "ingest" in run([tlsrpt, "--help"], cwd=tmp_path, env=env).stdout
    run([tlsrpt, "generate", "--domains", "1", "--days", "3", "--seed", "1", "corpus"], cwd=tmp_path, env=env)
    run([tlsrpt, "ingest", "--data-dir", "data", "corpus"], cwd=tmp_path, env=env)
    count = ("from pathlib import Path; from pipeline.settings import Settings; from pipeline.store.lake import open_lake;"
             "con = open_lake(Settings(data_dir=Path('data')), read_only=True);"
             "print(con.execute('select count(*) from marts.daily_outcomes').fetchone()[0])")
    assert int(run([str(installed / "python"), "-c", count], cwd=tmp_path, env=env).stdout) > 0
    assert (tmp_path / "data" / "lake" / "catalog.sqlite").is_file()
