"""The same core tables give the same models, row for row, whatever order the rows were
inserted in: every ordered aggregate, slice and tie in sql/ is broken by an explicit key, so a
rebuild never invents a "worsened" or "resolved" problem."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline.generate import write_corpus
from pipeline.store.warehouse import ensure_schema
from pipeline.transform.sql_models import build_all, build_order, load_models
from tests.conftest import ingest_into, open_warehouse

CORE = ("reports", "policies", "failure_details", "deliveries", "ingest_batches")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """Scenarios with ties to break: Microsoft's double listings, several MX, silences, stale
    policies, a downgrade from one network (seed 1, as the detection tests)."""
    root = tmp_path_factory.mktemp("deterministic")
    write_corpus(root / "corpus", seed=1, scenarios=("all",), formats=("files",))
    ingest_into(root / "data", [root / "corpus" / "files"], workers=2)
    return root / "data"


def _built(source: Path, order: str) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory warehouse holding the source lake's core tables inserted in `order`."""
    con = duckdb.connect()
    ensure_schema(con)
    lake = open_warehouse(source)
    try:
        for table in CORE:
            con.register("src", lake.execute(f"select * from {table}").to_arrow_table())
            con.execute(f"insert into main.{table} select * from src order by {order}")
            con.unregister("src")
    finally:
        lake.close()
    build_all(con)
    return con


def test_models_do_not_depend_on_the_order_rows_arrived_in(source: Path):
    # Ascending, then descending by the whole row: every scan and hash sees them differently.
    forward, backward = _built(source, "all"), _built(source, "all desc")
    for key in build_order(load_models()):  # the first table that differs is the culprit
        ours = forward.execute(f"select * from {key} order by all").fetchall()
        theirs = backward.execute(f"select * from {key} order by all").fetchall()
        assert len(ours) == len(theirs), key
        differing = [(a, b) for a, b in zip(ours, theirs) if a != b]
        assert not differing, f"{key}: {len(differing)} rows differ, first: {differing[0]}"
