"""A lake whose data files are on a real S3 server (OpenStack Swift, tests/swift_server.py) and
whose catalog is in a real PostgreSQL: what several machines share. `open_lake` makes the S3
secret from the TLSRPT_S3_* settings; two writer processes with their own local state commit at
the same time and every row arrives once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import duckdb
import pytest

from pipeline import sql_shell
from pipeline.settings import Settings, variable
from pipeline.store.lake import open_lake
from tests import postgres_server, swift_server

ROOT = Path(__file__).resolve().parents[2]
BATCH_ROWS = 20_000
BATCHES = 5
WRITERS = 2

# Run as `python -c WRITER <writer number>`, every setting from the environment. Row n of batch b
# of writer w is w * 1e6 + b * BATCH_ROWS + n: a lost or doubled row changes the counts below.
WRITER = f"""
import sys
from pipeline.settings import Settings
from pipeline.store.lake import open_lake, with_conflict_retry
con, writer = open_lake(Settings()), int(sys.argv[1])

def commit(batch):
    def write():
        con.execute("begin")
        try:
            con.execute("insert into numbers select ? * 1000000 + ? * {BATCH_ROWS} + range, ? from range({BATCH_ROWS})",
                        [writer, batch, writer])
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    return write

for batch in range({BATCHES}):
    with_conflict_retry(commit(batch))
"""


@pytest.fixture(scope="module")
def swift() -> Iterator[swift_server.Swift]:
    with swift_server.running() as server:
        yield server


def lake_env(swift: swift_server.Swift, catalog: str, data_path: str) -> dict[str, str]:
    settings = {"catalog": catalog, "data_path": data_path, **swift.s3_settings()}
    return {variable(name): str(value).lower() if isinstance(value, bool) else str(value) for name, value in settings.items()}


def settings_from(env: dict[str, str], data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(data_dir=data_dir)


def test_two_writer_processes_into_a_lake_on_s3_lose_and_double_nothing(swift, postgres, tmp_path: Path, monkeypatch):
    env = lake_env(swift, postgres.create_database("lake_on_s3"), swift.create_bucket("tlsrpt-two-writers") + "lake/")
    con = open_lake(settings_from(env, tmp_path / "creator", monkeypatch))
    con.execute("create table numbers (n bigint, writer integer)")

    # Each writer as on a machine of its own: its own data dir (extensions, local state).
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(number)], cwd=ROOT, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**os.environ, **env, "TLSRPT_DATA_DIR": str(tmp_path / f"machine-{number}")})
               for number in range(WRITERS)]
    for process in writers:
        _, err = process.communicate(timeout=240)
        assert process.returncode == 0, err[-2000:]

    rows = BATCH_ROWS * BATCHES
    assert con.execute("select writer, count(*), count(distinct n), min(n), max(n) from numbers group by 1 order by 1").fetchall() == [
        (w, rows, rows, w * 1_000_000, w * 1_000_000 + rows - 1) for w in range(WRITERS)]
    files = con.execute("select data_file from ducklake_list_files('lake', 'numbers')").fetchall()
    assert len(files) >= WRITERS * BATCHES and all(f.startswith("s3://tlsrpt-two-writers/lake/") for (f,) in files)
    assert not list(tmp_path.rglob("*.parquet")), "no data file may be written locally"
    con.close()


def test_a_wrong_secret_writes_nothing_and_says_why(swift, postgres, tmp_path: Path, monkeypatch):
    env = lake_env(swift, postgres.create_database("lake_denied"), swift.create_bucket("tlsrpt-denied") + "lake/")
    con = open_lake(settings_from(env, tmp_path / "data", monkeypatch))
    con.execute("create table numbers (n bigint)")
    monkeypatch.setenv("TLSRPT_S3_SECRET", "not-the-secret")
    intruder = open_lake(Settings(data_dir=tmp_path / "data"))
    with pytest.raises(duckdb.Error, match="403") as caught:
        intruder.execute("insert into numbers select range from range(1000)")  # over DuckLake's inlining limit
    assert "SignatureDoesNotMatch" in str(caught.value) and "not-the-secret" not in str(caught.value)
    assert con.execute("select count(*) from numbers").fetchone() == (0,)


def test_the_servers_run_on_loopback_and_stop_by_pid():
    with swift_server.running() as server:
        assert server.endpoint.startswith("127.0.0.1:") and len(server.pids) == 5
        assert all(postgres_server.alive(pid) for pid in server.pids)
    assert not any(postgres_server.alive(pid) for pid in server.pids)
    assert not server.root.exists()


def test_without_swift_the_tests_skip_and_say_why(monkeypatch):
    monkeypatch.setattr(swift_server.shutil, "which", lambda name: None)
    with pytest.raises(pytest.skip.Exception, match="OpenStack Swift is not installed .*scripts/test.sh installs it"):
        with swift_server.running():
            pass


def test_the_sql_shell_reads_a_lake_on_s3_with_the_keys_off_its_command_line(swift, postgres, tmp_path: Path, monkeypatch):
    env = lake_env(swift, postgres.create_database("lake_shell"), swift.create_bucket("tlsrpt-shell") + "lake/")
    con = open_lake(settings_from(env, tmp_path / "data", monkeypatch))
    con.execute("create table numbers (n bigint)")
    con.execute("insert into numbers select range from range(5000)")
    con.close()
    command = sql_shell.prepare(Settings(data_dir=tmp_path / "data"), None, ["-list", "-c", "select sum(n) from numbers"])
    secret = env["TLSRPT_S3_SECRET"]
    assert not any(secret in arg for arg in command.argv)
    shell = subprocess.run(command.argv, env={**os.environ, **command.environment}, capture_output=True, text=True,
                           timeout=120)
    assert shell.returncode == 0, shell.stderr[-2000:]
    assert shell.stdout.split()[-1] == str(sum(range(5000)))
