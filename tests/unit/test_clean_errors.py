"""Faults a user meets while the pipeline writes (issue 15, items 10 and 12): a reader holding
the live file, a second writer under `tlsrpt run`, a full disk, a run killed before the schema
or while publishing. Each is one line and an exit code, never a traceback; nothing is left
half-written, and the next run loads what this one could not."""

from __future__ import annotations

import errno
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import pipeline.store.landing
from pipeline.cli import app
from pipeline.generate import write_corpus
from pipeline.store.warehouse import set_aside_path, writer_lock
from pipeline.transform.sql_models import ModelError
from tests.unit.test_cli import FIXTURES, tlsrpt

REPORT = str(FIXTURES / "google_report.json")


def _one_line_error(result) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_reader_holding_the_live_file_is_one_line_and_exit_3(tmp_path: Path):
    data_dir = tmp_path / "data"
    assert tlsrpt("ingest", "--data-dir", str(data_dir), "--no-models", REPORT).returncode == 0
    reader = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)  # a `duckdb -readonly` shell
    try:
        result = tlsrpt("ingest", "--data-dir", str(data_dir), str(FIXTURES))
    finally:
        reader.close()
    assert result.returncode == 3
    assert "is held open by another process" in _one_line_error(result)
    again = tlsrpt("ingest", "--data-dir", str(data_dir), str(FIXTURES))
    assert again.returncode == 0, again.stderr
    assert " 0 loaded" not in again.stdout  # what the refused run could not load, this one did


def test_run_while_another_writer_holds_the_lock_is_one_line_and_exit_3(tmp_path: Path):
    data_dir = tmp_path / "data"
    (data_dir / "inbox").mkdir(parents=True)
    (data_dir / "inbox" / "report.json").write_bytes(Path(REPORT).read_bytes())
    with writer_lock(data_dir):
        result = tlsrpt("run", "--data-dir", str(data_dir))
    assert result.returncode == 3
    assert "another tlsrpt run is writing" in _one_line_error(result)


def test_a_full_disk_is_one_line_commits_nothing_and_the_next_run_loads(tmp_path: Path, monkeypatch):
    """ENOSPC faked where a batch first writes (its pack): no batch committed, no temp left."""
    data_dir = tmp_path / "data"
    real_write_pack = pipeline.store.landing.write_pack

    def full(data_dir, *args):
        (data_dir / pipeline.store.landing.PACK_DIR).mkdir(parents=True, exist_ok=True)
        (data_dir / pipeline.store.landing.PACK_DIR / ".tmp-partial").write_bytes(b"x")  # what a torn write leaves
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("pipeline.store.batch.write_pack", full)
    result = CliRunner().invoke(app, ["ingest", "--data-dir", str(data_dir), "--workers", "1", str(FIXTURES)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "no space left on the device" in _one_line_error(result)
    assert not list((data_dir / "landing" / "packs").glob("*.pack"))
    monkeypatch.setattr("pipeline.store.batch.write_pack", real_write_pack)
    again = tlsrpt("ingest", "--data-dir", str(data_dir), "--no-models", str(FIXTURES))
    assert again.returncode == 0, again.stderr
    assert not list((data_dir / "landing" / "packs").glob(".tmp-*"))


def test_leftovers_of_a_killed_run_are_swept_by_the_next(tmp_path: Path):
    data_dir = tmp_path / "data"
    assert tlsrpt("ingest", "--data-dir", str(data_dir), REPORT).returncode == 0
    copy = data_dir / "snapshots" / ".tmp-20261204T000000000000Z"
    copy.write_bytes(b"half a copy")
    aside = set_aside_path(data_dir / "warehouse.duckdb")
    aside.write_bytes(b"the warehouse a killed rebuild moved aside")
    assert tlsrpt("ingest", "--data-dir", str(data_dir), "--no-models", REPORT).returncode == 0
    assert not copy.exists() and not aside.exists()


def test_status_of_a_warehouse_without_tables_is_one_line(tmp_path: Path):
    duckdb.connect(str(tmp_path / "warehouse.duckdb")).close()  # killed before the schema existed
    result = tlsrpt("status", "--data-dir", str(tmp_path))
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert "has no tables yet" in result.stdout


def test_a_model_that_fails_during_rebuild_is_one_line(tmp_path: Path, monkeypatch):
    """`tlsrpt rebuild` with a model that fails (issue 15, item 2: a cast that overflowed): the
    core tables are rebuilt, the failure is one line naming the SQL file, exit 1."""
    data_dir = tmp_path / "data"
    assert tlsrpt("ingest", "--data-dir", str(data_dir), "--no-models", REPORT).returncode == 0

    def failing(settings):
        raise ModelError("sql/marts/sources_by_host_daily.sql: Conversion Error: Type INT128 can't be cast to INT64")

    monkeypatch.setattr("pipeline.ingest_cli.refresh_all", failing)
    result = CliRunner().invoke(app, ["rebuild", "--data-dir", str(data_dir)])
    assert result.exit_code == 1
    assert "sources_by_host_daily.sql" in _one_line_error(result)
    assert "1 loaded" in result.stdout  # the core tables were rebuilt from the landing zone


@pytest.mark.timeout(300)
def test_a_status_loop_beside_a_running_ingest_does_not_stop_it(tmp_path: Path):
    """A reader that opens the live file again and again (a `tlsrpt status` loop) while an ingest
    runs and rebuilds its models: the ingest waits out each read and completes."""
    corpus = tmp_path / "corpus"
    write_corpus(corpus, domains=3, days=20, seed=5, formats=("files",))
    data_dir = tmp_path / "data"
    db_path = data_dir / "warehouse.duckdb"
    ingest = subprocess.Popen([sys.executable, "-m", "pipeline", "ingest", "--data-dir", str(data_dir), str(corpus)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reads = 0
    while ingest.poll() is None:
        try:
            reader = duckdb.connect(str(db_path), read_only=True)
        except duckdb.Error:
            continue  # the writer holds it; `tlsrpt status` says "try again" then
        try:
            reader.execute("select count(*) from duckdb_tables()").fetchall()
            reads += 1
            time.sleep(0.2)  # a slower query: the file stays held a while (pacing, not an assertion)
        finally:
            reader.close()
        time.sleep(0.1)
    _, stderr = ingest.communicate()
    assert ingest.returncode == 0, stderr
    assert reads > 0, "the reader never got in: the test proved nothing"
