"""A DuckLake whose catalog is in a real PostgreSQL (tests/postgres_server.py): the base of the
scale-out mode of issue 17. A reader process never sees half a commit of a writer process."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.store import extensions
from tests import postgres_server
from tests.services import port_is_free

ROOT = Path(__file__).resolve().parents[2]
BATCH_ROWS = 20_000
BATCHES = 8

# Run as `python -c WRITER|READER <libpq> <data path> <extension dir>`.
ATTACH = (
    "import sys, duckdb; from pathlib import Path; from pipeline.store import extensions; "
    "con = duckdb.connect(); extensions.load(con, ['ducklake', 'postgres_scanner'], Path(sys.argv[3])); "
    "con.execute(f\"attach 'ducklake:postgres:{sys.argv[1]}' as lake (data_path '{sys.argv[2]}')\"); "
)
WRITER = ATTACH + (
    f"[con.execute('insert into lake.rows select {{0}} * {BATCH_ROWS} + range, {{0}} from range({BATCH_ROWS})'.format(b)) "
    f"for b in range({BATCHES})]"
)
# Counts seen while the writer commits, until it has written everything (or 3000 reads). Each
# query is its own transaction, so it reads the newest committed snapshot.
READER = ATTACH + (
    "print('ready', flush=True); seen = [];\n"
    "while len(seen) < 3000 and (not seen or seen[-1] < " + str(BATCH_ROWS * BATCHES) + "):\n"
    "    seen.append(con.execute('select count(*) from lake.rows').fetchone()[0])\n"
    "print(' '.join(map(str, seen)))"
)


def lake_args(postgres: postgres_server.Postgres, name: str, tmp_path: Path) -> list[str]:
    return [postgres.create_database(name), f"{tmp_path}/lake/", str(tmp_path / "duckdb_extensions")]


def test_reader_process_sees_only_whole_commits_of_a_writer_process(postgres, tmp_path: Path):
    args = lake_args(postgres, "whole_commits", tmp_path)
    con = duckdb.connect()
    extensions.load(con, ["ducklake", "postgres_scanner"], Path(args[2]))
    con.execute(f"attach 'ducklake:postgres:{args[0]}' as lake (data_path '{args[1]}')")
    con.execute("create table lake.rows (n bigint, batch integer)")

    reader = subprocess.Popen([sys.executable, "-c", READER, *args], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "ready", reader.stderr.read()[-2000:]
    writer = subprocess.run([sys.executable, "-c", WRITER, *args], cwd=ROOT, capture_output=True, text=True, timeout=240)
    out, err = reader.communicate(timeout=240)
    assert writer.returncode == 0, writer.stderr[-2000:]
    assert reader.returncode == 0, err[-2000:]

    seen = [int(n) for n in out.split()]
    assert seen[-1] == BATCH_ROWS * BATCHES
    assert all(n % BATCH_ROWS == 0 for n in seen), "a reader saw part of a commit"
    assert seen == sorted(seen)
    assert con.execute("select count(distinct n), min(n), max(n) from lake.rows").fetchone() == (
        BATCH_ROWS * BATCHES, 0, BATCH_ROWS * BATCHES - 1)
    assert list((tmp_path / "lake").rglob("*.parquet"))


def test_server_runs_as_its_own_user_and_stops_by_pid():
    with postgres_server.running() as server:
        owner = Path(f"/proc/{server.pid}/status").read_text().split("Uid:")[1].split()[0]
        assert owner != "0", "PostgreSQL must not run as root"
        assert not port_is_free(server.port)
        con = duckdb.connect()
        extensions.load(con, ["postgres_scanner"], server.root / "duckdb_extensions")
        con.execute(f"attach '{server.libpq('postgres')}' as pg (type postgres, read_only)")
        assert con.execute("select * from postgres_query('pg', 'select current_user')").fetchone() == (
            postgres_server.SUPERUSER,)
        con.close()
    assert not postgres_server.alive(server.pid)
    with pytest.raises(ConnectionRefusedError):  # nothing listens (the port itself may sit in TIME_WAIT)
        socket.create_connection(("127.0.0.1", server.port), timeout=5)
    assert not server.root.exists()


def test_without_the_package_the_tests_skip_and_say_why(monkeypatch):
    monkeypatch.setattr(postgres_server, "bin_dir", lambda: None)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL is not installed .*scripts/test.sh installs"):
        with postgres_server.running():
            pass
