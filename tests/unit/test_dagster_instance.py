"""<data>/dagster/dagster.yaml follows the settings: SQLite by default, PostgreSQL storage (with
the psycopg2 driver dagster-postgres brings) when TLSRPT_DAGSTER_POSTGRES names a database; the
password never lands in the file, and keys an operator added stay."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assets.instance import PASSWORD_VARIABLE, _refusal, write_config
from pipeline.settings import Settings
from tests.services import free_port

URL = "postgresql://dagster%40ops@db.example.net:6432/dagster_runs?sslmode=require"


def test_by_default_the_runs_stay_in_sqlite_under_the_home(tmp_path: Path):
    path = write_config(Settings(data_dir=tmp_path))
    assert path == tmp_path / "dagster" / "dagster.yaml"
    assert yaml.safe_load(path.read_text()) == {"telemetry": {"enabled": False}}


def test_a_postgres_url_becomes_the_storage_with_the_password_left_in_the_environment(tmp_path: Path):
    path = write_config(Settings(data_dir=tmp_path, dagster_postgres=URL, dagster_postgres_password="pw-in-env"))
    text = path.read_text()
    assert "pw-in-env" not in text
    assert yaml.safe_load(text)["storage"] == {"postgres": {"postgres_db": {
        "username": "dagster@ops", "hostname": "db.example.net", "db_name": "dagster_runs", "port": 6432,
        "params": {"sslmode": "require"}, "scheme": "postgresql+psycopg2", "password": {"env": PASSWORD_VARIABLE}}}}


def test_without_a_password_none_is_referenced(tmp_path: Path):
    """libpq's own ~/.pgpass then applies; a reference to an unset variable would stop Dagster."""
    path = write_config(Settings(data_dir=tmp_path, dagster_postgres="postgresql://dagster@db.example.net/runs"))
    database = yaml.safe_load(path.read_text())["storage"]["postgres"]["postgres_db"]
    assert "password" not in database and database["port"] == 5432


def test_keys_an_operator_added_stay_and_storage_follows_the_setting_back(tmp_path: Path):
    path = write_config(Settings(data_dir=tmp_path, dagster_postgres=URL))
    edited = yaml.safe_load(path.read_text()) | {"run_coordinator": {"module": "dagster.core.run_coordinator",
                                                                     "class": "QueuedRunCoordinator"}}
    path.write_text(yaml.safe_dump(edited))
    write_config(Settings(data_dir=tmp_path))
    again = yaml.safe_load(path.read_text())
    assert "storage" not in again and again["run_coordinator"] == edited["run_coordinator"]
    assert again["telemetry"] == {"enabled": False}


def test_an_unchanged_config_is_not_rewritten(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, dagster_postgres=URL)
    path = write_config(settings)
    before = path.stat().st_mtime_ns
    path.touch()  # a later rewrite would give a newer stamp than this one
    stamp = path.stat().st_mtime_ns
    write_config(settings)
    assert path.stat().st_mtime_ns == stamp >= before


@pytest.mark.parametrize("query", ["", "?connect_timeout=2&sslmode=disable", "?an_option_libpq_does_not_know=1"])
def test_a_server_that_does_not_answer_is_left_to_dagsters_retries(tmp_path: Path, query: str):
    """Only a server that answered and refused for good is told at once (the wrong password:
    tests/integration/test_dagster_postgres.py); the one-attempt probe never fails on its own,
    whatever the URL's options (one the probe also sets, one libpq does not know)."""
    url = f"postgresql://dagster@127.0.0.1:{free_port()}/runs{query}"  # nothing listens there
    assert _refusal(Settings(data_dir=tmp_path, dagster_postgres=url)) == ""
