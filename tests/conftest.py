"""Shared test helpers: temp warehouses, read-only queries, the real corpus from ../shared."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import duckdb
import pytest

from pipeline.ingest import IngestSummary, ingest
from pipeline.settings import Settings
from tests import postgres_server

ROOT = Path(__file__).resolve().parents[1]
REAL_CORPUS = ROOT.parent / "shared" / "corpus" / "real"


def ingest_into(data_dir: Path, paths: list[Path], workers: int = 1) -> IngestSummary:
    return ingest(paths, Settings(data_dir=data_dir, workers=workers))


def query(data_dir: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
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
