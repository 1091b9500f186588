"""The schemas the model builds rewrite keep no inlined data: with DuckLake's data inlining each
table a build replaces left a table of its own in the catalog database, and every read of the
lake slowed with their number (pipeline/store/warehouse.py, MODEL_SCHEMAS). The one exception: an
empty table a build keeps, inlined into for one transaction to get statistics (store/empty_tables.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipeline.generate.corpus import write_corpus
from pipeline.settings import Settings
from pipeline.store import lake, warehouse
from pipeline.store.warehouse import MODEL_SCHEMAS, connect
from pipeline.transform.sql_models import LAYERS, kept_tables, load_models, refresh_all
from tests.conftest import ingest_into


def _catalog(data_dir: Path) -> sqlite3.Connection:
    lake.forget()  # the kept connection may hold catalog state: read the file itself
    return sqlite3.connect(f"file:{data_dir / 'lake' / 'catalog.sqlite'}?mode=ro", uri=True)


def _schemas_without_inlining(data_dir: Path) -> set[str]:
    con = connect(Settings(data_dir=data_dir))
    try:
        return {scope_id for _, _, value, scope, scope_id in con.execute(f"select * from {lake.ALIAS}.options()").fetchall()
                if scope == "SCHEMA" and value == "0"}
    finally:
        con.close()


def _inlined_model_tables(data_dir: Path) -> list[str]:
    """The model tables with a catalog table for inlined rows, one entry per such catalog table."""
    catalog = _catalog(data_dir)
    try:
        return [name for (name,) in catalog.execute(
            "select s.schema_name || '.' || t.table_name from ducklake_inlined_data_tables as i"
            " join ducklake_table as t on t.table_id = i.table_id"
            " join ducklake_schema as s on s.schema_id = t.schema_id"
            f" where s.schema_name in ({', '.join('?' * len(MODEL_SCHEMAS))})", MODEL_SCHEMAS).fetchall()]
    finally:
        catalog.close()


def test_every_model_schema_is_one_without_inlining():
    assert set(LAYERS) <= set(MODEL_SCHEMAS)


def test_model_builds_leave_no_inlined_tables(tmp_path: Path):
    write_corpus(tmp_path / "corpus", seed=2, days=6, formats=("files",))
    inputs = sorted(p for p in (tmp_path / "corpus").rglob("*.json*") if p.is_file())
    settings = Settings(data_dir=tmp_path / "data")
    for part in range(2):  # two builds: the second replaces every model rebuilt in full
        folder = tmp_path / f"part{part}"
        folder.mkdir()
        for path in inputs[part::2]:
            (folder / path.name).write_bytes(path.read_bytes())
        ingest_into(settings.data_dir, [folder])
        assert refresh_all(settings)
    assert _schemas_without_inlining(settings.data_dir) == set(MODEL_SCHEMAS)
    # Only the empty tables a build keeps got one (pipeline/store/empty_tables.py: their statistics),
    # once each, whatever the builds after: none for a table a build replaces.
    inlined = _inlined_model_tables(settings.data_dir)
    assert set(inlined) <= set(kept_tables(load_models()))
    assert len(inlined) == len(set(inlined))


def test_a_lake_of_schema_4_gets_the_options_on_its_next_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    settings = Settings(data_dir=tmp_path)
    with monkeypatch.context() as old_code:
        old_code.setattr(warehouse, "SCHEMA_VERSION", 4)
        old_code.setattr(warehouse, "MODEL_SCHEMAS", ())
        connect(settings).close()
    lake.forget()
    catalog = _catalog(tmp_path)
    try:
        assert catalog.execute("select count(*) from ducklake_metadata where scope = 'SCHEMA'").fetchone() == (0,)
    finally:
        catalog.close()
    assert _schemas_without_inlining(tmp_path) == set(MODEL_SCHEMAS)  # this writer upgraded it
    con = connect(settings)
    try:
        assert con.execute("select max(version) from main.schema_info").fetchone() == (warehouse.SCHEMA_VERSION,)
    finally:
        con.close()
