"""`tlsrpt sql`: the project's DuckDB shell on the lake, read-only, at the newest or a chosen
snapshot, while a writer process commits, with an embedded or a PostgreSQL catalog."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import sql_shell
from pipeline.settings import Settings
from pipeline.store import lake

ROOT = Path(__file__).resolve().parents[2]
SHELL = Path(sys.executable).parent / "duckdb"
BATCH_ROWS = 1000
needs_shell = pytest.mark.skipif(not SHELL.exists(), reason="duckdb-cli is not installed in this environment")

# Run as `python -c WRITER <data dir> <stop file>`: commits batches until the stop file appears,
# then prints how many it committed.
WRITER = (
    "import sys, time; from pathlib import Path; from pipeline.settings import Settings; "
    "from pipeline.store import lake\n"
    "con = lake.open_lake(Settings(data_dir=sys.argv[1])); stop = Path(sys.argv[2]); batches = 0\n"
    "print('ready', flush=True)\n"
    "while not stop.exists() and batches < 2000:\n"
    f"    con.execute('insert into rows select range from range({BATCH_ROWS})'); batches += 1; time.sleep(0.05)\n"
    "print(batches)"
)


def tlsrpt_sql(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "sql", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env={**os.environ, "COLUMNS": "200", **(env or {})})


def lake_with_batches(settings: Settings, batches: int) -> list[int]:
    """A `rows` table filled in `batches` commits; the snapshot id after each."""
    con = lake.open_lake(settings)
    con.execute("create table rows (n bigint)")
    snapshots = []
    for _ in range(batches):
        con.execute(f"insert into rows select range from range({BATCH_ROWS})")
        snapshots.append(lake.current_snapshot(con))
    con.close()
    return snapshots


@needs_shell
def test_one_query_reads_the_newest_snapshot_or_a_chosen_one(tmp_path: Path):
    snapshots = lake_with_batches(Settings(data_dir=tmp_path), 3)
    newest = tlsrpt_sql("--data-dir", str(tmp_path), "-csv", "-noheader", "-c", "select count(*) from rows")
    assert newest.returncode == 0, newest.stderr
    assert newest.stdout.strip() == str(3 * BATCH_ROWS)
    first = tlsrpt_sql("--data-dir", str(tmp_path), "--snapshot", str(snapshots[0]), "-csv", "-noheader",
                       "-c", "select count(*) from rows")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == str(BATCH_ROWS)
    # Read-only: the shell cannot change the lake.
    write = tlsrpt_sql("--data-dir", str(tmp_path), "-c", "insert into rows values (1)")
    assert "read-only" in (write.stdout + write.stderr).lower()


@needs_shell
def test_reads_while_a_writer_process_commits(tmp_path: Path):
    lake_with_batches(Settings(data_dir=tmp_path), 1)
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(stop)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready", writer.stderr.read()[-2000:]
        seen = []
        for _ in range(3):
            result = tlsrpt_sql("--data-dir", str(tmp_path), "-csv", "-noheader", "-c", "select count(*) from rows")
            assert writer.poll() is None, "the writer stopped before the read ended: the read overlapped nothing"
            assert result.returncode == 0, result.stderr
            seen.append(int(result.stdout.strip()))
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err[-2000:]
    assert all(n % BATCH_ROWS == 0 for n in seen), f"a read saw part of a commit: {seen}"
    assert seen == sorted(seen) and seen[-1] <= (1 + int(out)) * BATCH_ROWS


def test_no_lake_yet_is_one_line_and_creates_nothing(tmp_path: Path):
    result = tlsrpt_sql("--data-dir", str(tmp_path / "data"), "-c", "select 1")
    assert result.returncode == 3
    assert result.stderr.startswith("error: no warehouse yet") and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "data").exists()


def test_a_missing_shell_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    with pytest.raises(sql_shell.ShellUnavailable, match="no DuckDB shell at .*duckdb-cli"):
        sql_shell.prepare(Settings(data_dir=tmp_path), None, [])


@pytest.mark.parametrize(("conninfo", "without", "password"), [
    ("postgresql://tlsrpt:s%40cret@db.example.net:5432/lake", "postgresql://tlsrpt@db.example.net:5432/lake", "s@cret"),
    ("postgresql://tlsrpt@db.example.net/lake", "postgresql://tlsrpt@db.example.net/lake", None),
    ("host=db port=5432 password=s3cret dbname=lake", "host=db port=5432 dbname=lake", "s3cret"),
    ("host=db password='a b\\'c' dbname=lake", "host=db dbname=lake", "a b'c"),
    ("host=db dbname=lake", "host=db dbname=lake", None),
])
def test_the_catalog_password_leaves_the_command_line(conninfo: str, without: str, password: str | None):
    assert sql_shell.without_password(conninfo) == (without, password)


@needs_shell
def test_a_postgresql_catalog_with_its_password_in_the_environment_only(postgres, tmp_path: Path):
    catalog = postgres.create_database("sql_shell")
    env = {"TLSRPT_CATALOG": catalog, "TLSRPT_DATA_PATH": str(tmp_path / "shared")}
    settings = Settings(data_dir=tmp_path, catalog=catalog, data_path=str(tmp_path / "shared"))
    lake_with_batches(settings, 2)
    command = sql_shell.prepare(settings, None, ["-c", "select 1"])
    assert postgres.password not in " ".join(command.argv)
    assert command.environment == {"PGPASSWORD": postgres.password}
    result = tlsrpt_sql("--data-dir", str(tmp_path), "-csv", "-noheader", "-c", "select count(*) from rows", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(2 * BATCH_ROWS)
