"""Every core and config table of the lake has statistics in the catalog, empty ones included:
DuckLake 1.5.5 asks the catalog again for every column of a table that never held a row, in
every statement that reads it (pipeline/store/empty_tables.py). New lakes and lakes of schema 3
on their first writer connection. Not the models built empty: their schemas inline no data
(tests/unit/test_model_inlining.py), and the placeholder row gives statistics only when inlined."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipeline.settings import Settings
from pipeline.store import empty_tables, lake, warehouse
from pipeline.store.warehouse import MODEL_SCHEMAS, connect
from pipeline.transform.sql_models import refresh_all


def _without_statistics(data_dir: Path) -> list[str]:
    lake.forget()  # the kept connection may hold catalog state: read the file itself
    catalog = sqlite3.connect(f"file:{data_dir / 'lake' / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        return [name for (name,) in catalog.execute(
            "select s.schema_name || '.' || t.table_name from ducklake_table as t"
            " join ducklake_schema as s on s.schema_id = t.schema_id"
            " left join ducklake_table_stats as st on st.table_id = t.table_id"
            " where t.end_snapshot is null and s.end_snapshot is null and st.table_id is null"
            f" and s.schema_name not in ({', '.join('?' * len(MODEL_SCHEMAS))}) order by 1", MODEL_SCHEMAS).fetchall()]
    finally:
        catalog.close()


def test_a_new_lake_and_its_config_after_a_build_on_nothing_have_statistics(tmp_path: Path):
    settings = Settings(data_dir=tmp_path)
    connect(settings).close()
    assert _without_statistics(tmp_path) == []
    assert len(refresh_all(settings)) > 40  # every model, each one empty
    assert _without_statistics(tmp_path) == []  # config.model_failures, config.reporter_domains...
    con = connect(settings)
    try:
        assert con.execute("select count(*) from main.posture_checks").fetchone() == (0,)
        assert con.execute("select count(*) from detect.problems").fetchone() == (0,)
    finally:
        con.close()


def test_a_lake_of_schema_3_gets_them_on_its_next_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    settings = Settings(data_dir=tmp_path)
    with monkeypatch.context() as old_code:
        old_code.setattr(warehouse, "SCHEMA_VERSION", 3)
        old_code.setattr(warehouse, "give_statistics", lambda con, table: None)
        connect(settings).close()
    assert "main.posture_checks" in _without_statistics(tmp_path)
    con = connect(settings)
    try:
        assert con.execute("select max(version) from main.schema_info").fetchone() == (warehouse.SCHEMA_VERSION,)
        assert con.execute("select count(*) from main.reports").fetchone() == (0,)
    finally:
        con.close()
    assert _without_statistics(tmp_path) == []


def test_placeholders_fit_not_null_columns_of_every_type_we_use():
    import duckdb

    con = duckdb.connect()
    con.execute("create table t (a varchar not null, b date not null, c varchar[] not null, d timestamptz not null,"
                " e bigint not null, f double not null, g boolean not null, h integer, i decimal(9, 2) not null)")
    empty_tables.give_statistics(con, "t")
    assert con.execute("select count(*) from t").fetchone() == (0,)
