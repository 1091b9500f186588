"""Shared test helpers: temp warehouses (lakes), read-only queries, the real corpus from ../shared."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import duckdb
import pytest

from pipeline.ingest import IngestSummary, ingest
from pipeline.settings import Settings
from pipeline.store.builds import record_build
from pipeline.store.lake import open_lake
from pipeline.store.warehouse import connect
from tests import postgres_server

ROOT = Path(__file__).resolve().parents[1]
REAL_CORPUS = ROOT.parent / "shared" / "corpus" / "real"


def ingest_into(data_dir: Path, paths: list[Path], workers: int = 1) -> IngestSummary:
    return ingest(paths, Settings(data_dir=data_dir, workers=workers))


def open_warehouse(data_dir: Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """The lake under `data_dir` (its newest snapshot), as analysts and readers open it.
    `read_only=False`: a writer, schema ensured (tests that plant rows)."""
    settings = Settings(data_dir=data_dir)
    return open_lake(settings, read_only=True) if read_only else connect(settings)


def publish(data_dir: Path) -> int:
    """Record a passed model build at the lake's newest snapshot, as a pipeline run does after
    its models: readers (the dashboard, the alerts) then pin it. Returns the snapshot id."""
    con = connect(Settings(data_dir=data_dir))
    try:
        return record_build(con, passed=True)
    finally:
        con.close()


def query(data_dir: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = open_warehouse(data_dir)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="session")
def real_corpus() -> Path:
    if not REAL_CORPUS.is_dir():
        pytest.skip("../shared/corpus/real is not present beside the project")
    return REAL_CORPUS


@pytest.fixture(scope="session")
def postgres() -> Iterator[postgres_server.Postgres]:
    """One real PostgreSQL server on 127.0.0.1 for the whole session (tests/postgres_server.py)."""
    with postgres_server.running() as server:
        yield server
