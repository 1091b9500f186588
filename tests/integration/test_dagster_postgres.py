"""Dagster's instance storage in a real PostgreSQL (tests/postgres_server.py), as several machines
share it: a run recorded by one data dir is in the database, not in a local SQLite file, and
`tlsrpt status` of another data dir with the same setting reads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from assets.instance import PASSWORD_VARIABLE, dagster_instance
from pipeline.settings import Settings
from tests import postgres_server


@dg.asset
def fails_on_purpose() -> None:
    raise RuntimeError("the catalog went away mid-run")


@dg.asset
def succeeds() -> int:
    return 1


def shared_storage(postgres: postgres_server.Postgres, monkeypatch: pytest.MonkeyPatch, database: str) -> dict[str, str]:
    postgres.create_database(database)
    env = {"TLSRPT_DAGSTER_POSTGRES": f"postgresql://{postgres_server.SUPERUSER}@127.0.0.1:{postgres.port}/{database}",
           PASSWORD_VARIABLE: postgres.password}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAGSTER_HOME", os.environ.get("DAGSTER_HOME", ""))  # dagster_instance sets it; undo after
    return env


def status_of(data_dir: Path, env: dict[str, str]) -> str:
    result = subprocess.run([sys.executable, "-m", "pipeline", "status", "--data-dir", str(data_dir)],
                            capture_output=True, text=True, env={**os.environ, **env, "COLUMNS": "200"}, timeout=180)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return next(line for line in result.stdout.splitlines() if line.startswith("last Dagster run"))


def test_runs_land_in_postgres_and_status_on_another_machine_reads_them(postgres, tmp_path: Path, monkeypatch):
    env = shared_storage(postgres, monkeypatch, "dagster_shared")
    first = Settings(data_dir=tmp_path / "machine-a")
    instance = dagster_instance(first)
    try:
        ok = dg.materialize([succeeds], instance=instance)
        failed = dg.materialize([fails_on_purpose], instance=instance, raise_on_error=False)
    finally:
        instance.dispose()
    assert ok.success and not failed.success

    with psycopg2.connect(postgres.libpq("dagster_shared")) as con, con.cursor() as cursor:
        cursor.execute("select run_id, status from runs order by create_timestamp")
        assert cursor.fetchall() == [(ok.run_id, "SUCCESS"), (failed.run_id, "FAILURE")]
    assert not (first.dagster_home / "history").exists(), "no run may be kept in the local SQLite files"
    assert postgres.password not in (first.dagster_home / "dagster.yaml").read_text()

    # Machine B: its own data dir, only the settings in common. Its first run writes its config;
    # here `tlsrpt run` is stood in for by writing the config alone.
    second = Settings(data_dir=tmp_path / "machine-b")
    dagster_instance(second).dispose()
    line = status_of(second.data_dir, env)
    assert "FAILED" in line and failed.run_id[:8] in line and "the catalog went away mid-run" in line, line


def test_a_wrong_password_is_one_line_and_never_a_silent_local_history(postgres, tmp_path: Path, monkeypatch):
    env = shared_storage(postgres, monkeypatch, "dagster_denied")
    env[PASSWORD_VARIABLE] = "not-the-password"
    monkeypatch.setenv(PASSWORD_VARIABLE, env[PASSWORD_VARIABLE])
    settings = Settings(data_dir=tmp_path / "data")
    # A refusal for good is told at the first attempt, not after dagster-postgres' retries (~12 s).
    run = subprocess.run([sys.executable, "-m", "pipeline", "run", "--data-dir", str(settings.data_dir)],
                         capture_output=True, text=True, env={**os.environ, **env, "COLUMNS": "300"}, timeout=300)
    assert run.returncode == 3 and "Traceback" not in run.stderr, run.stderr
    assert "error: cannot reach Dagster's storage" in run.stderr and "password authentication failed" in run.stderr
    assert "not-the-password" not in run.stderr + run.stdout
    assert "Retrying failed database connection" not in run.stderr  # told at once, not after retries
    assert not (settings.dagster_home / "history").exists()
    assert "last Dagster run: unknown (cannot reach Dagster's storage" in status_of(settings.data_dir, env)
