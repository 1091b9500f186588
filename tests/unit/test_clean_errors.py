"""Faults a user meets while the pipeline writes (issue 15, items 10 and 12; issue 17): a second
writer under `tlsrpt run`, a full disk, an unreachable catalog, a run killed before the schema
or during a rebuild. Each is one line and an exit code, never a traceback; nothing is left
half-written, and the next run loads what this one could not. Readers of the lake never stop a
writer, and a writer never stops them."""

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
from pipeline.settings import Settings
from pipeline.store import builds
from pipeline.store.lake import open_lake
from pipeline.store.warehouse import set_aside_path, writer_lock
from pipeline.transform.sql_models import ModelError
from tests.conftest import query
from tests.unit.test_cli import FIXTURES, tlsrpt

REPORT = str(FIXTURES / "google_report.json")


def _one_line_error(result) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_reader_holding_the_lake_open_neither_stops_an_ingest_nor_sees_it_move(tmp_path: Path):
    data_dir = tmp_path / "data"
    assert tlsrpt("ingest", "--data-dir", str(data_dir), "--no-models", REPORT).returncode == 0
    settings = Settings(data_dir=data_dir)
    before = builds.snapshot_to_read(settings)
    reader = open_lake(settings, read_only=True, snapshot=before)  # a shell pinned to what it saw
    try:
        result = tlsrpt("ingest", "--data-dir", str(data_dir), str(FIXTURES))
        assert result.returncode == 0, result.stderr
        assert reader.execute("select count(*) from reports").fetchone()[0] == 1  # its snapshot, unmoved
    finally:
        reader.close()
    assert query(data_dir, "select count(*) from reports")[0][0] > 1  # a new reader sees the new batches


def test_an_unreachable_catalog_is_one_line_and_exit_3(tmp_path: Path):
    result = tlsrpt("ingest", "--data-dir", str(tmp_path), "--no-models", REPORT,
                    env={"TLSRPT_CATALOG": "postgresql://nobody@127.0.0.1:9/lake"})
    assert result.returncode == 3
    line = _one_line_error(result)
    assert "cannot open the warehouse at the PostgreSQL catalog" in line
    assert not list((tmp_path / "landing" / "packs").glob("*.pack"))  # nothing landed without a lake to load it into


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
    aside = set_aside_path(Settings(data_dir=data_dir))
    aside.mkdir()
    (aside / "catalog.sqlite").write_bytes(b"the lake a killed rebuild moved aside")
    assert tlsrpt("ingest", "--data-dir", str(data_dir), "--no-models", REPORT).returncode == 0
    assert not aside.exists()


def test_status_of_a_warehouse_without_tables_is_one_line(tmp_path: Path):
    open_lake(Settings(data_dir=tmp_path)).close()  # a lake made, the run killed before its schema existed
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
def test_a_status_loop_beside_a_running_ingest_never_waits(tmp_path: Path):
    """A reader that opens the lake again and again (a `tlsrpt status` loop) while an ingest
    commits its batches and rebuilds its models: every read succeeds, and the ingest completes."""
    corpus = tmp_path / "corpus"
    write_corpus(corpus, domains=3, days=20, seed=5, formats=("files",))
    data_dir = tmp_path / "data"
    ingest = subprocess.Popen([sys.executable, "-m", "pipeline", "ingest", "--data-dir", str(data_dir), str(corpus)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reads, counts = 0, []
    while ingest.poll() is None:
        if not (data_dir / "lake" / "catalog.sqlite").exists():
            time.sleep(0.05)
            continue
        try:
            counts.append(query(data_dir, "select count(*) from deliveries")[0][0])
        except duckdb.CatalogException:
            continue  # the lake exists, its schema not yet
        reads += 1
    _, stderr = ingest.communicate()
    assert ingest.returncode == 0, stderr
    assert reads > 0, "the reader never got in: the test proved nothing"
    assert counts == sorted(counts)  # committed batches only ever add
