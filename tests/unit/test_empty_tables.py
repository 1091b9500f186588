"""Every core and config table of the lake has statistics in the catalog, empty ones included:
DuckLake 1.5.5 asks the catalog again for every column of a table that never held a row, in
every statement that reads it (pipeline/store/empty_tables.py). New lakes and lakes of schema 3
on their first writer connection. The models built empty: their schemas inline no data
(tests/unit/test_model_inlining.py), so those a day's build keeps get them in a transaction of their
own after the build, inlining allowed for that transaction alone; those it replaces go without."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipeline.settings import Settings
from pipeline.store import empty_tables, lake, warehouse
from pipeline.store.warehouse import MODEL_SCHEMAS, connect
from pipeline.transform.sql_models import kept_tables, load_models, refresh_all


def _without_statistics(data_dir: Path, models: bool = False) -> list[str]:
    lake.forget()  # the kept connection may hold catalog state: read the file itself
    catalog = sqlite3.connect(f"file:{data_dir / 'lake' / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        return [name for (name,) in catalog.execute(
            "select s.schema_name || '.' || t.table_name from ducklake_table as t"
            " join ducklake_schema as s on s.schema_id = t.schema_id"
            " left join ducklake_table_stats as st on st.table_id = t.table_id"
            " where t.end_snapshot is null and s.end_snapshot is null and st.table_id is null"
            f" and s.schema_name {'' if models else 'not '}in ({', '.join('?' * len(MODEL_SCHEMAS))}) order by 1",
            MODEL_SCHEMAS).fetchall()]
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


def _table_options(data_dir: Path) -> list[str]:
    catalog = sqlite3.connect(f"file:{data_dir / 'lake' / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        return [value for (value,) in catalog.execute(
            "select value from ducklake_metadata where key = 'data_inlining_row_limit' and scope = 'table'")]
    finally:
        catalog.close()


def test_the_models_a_build_keeps_get_statistics_when_empty_and_the_others_do_not(tmp_path: Path):
    settings = Settings(data_dir=tmp_path)
    refresh_all(settings)  # no reports: every model built empty
    kept = set(kept_tables(load_models()))
    lacking = set(_without_statistics(tmp_path, models=True))
    assert {"posture.posture_problems", "posture.latest_checks", "staging.report_copies"} <= kept
    assert not kept & lacking
    # A table every build of new data replaces would leave a catalog table behind each time.
    assert "detect.problems" not in kept and "detect.problems" in lacking
    assert _table_options(tmp_path) and set(_table_options(tmp_path)) == {"0"}  # inlining allowed no longer
    con = connect(settings)
    try:
        assert con.execute("select count(*) from posture.posture_problems").fetchone() == (0,)
        assert con.execute("select count(*) from staging.report_copies").fetchone() == (0,)
        assert empty_tables.give_models_statistics(con, sorted(kept)) == []  # once per table
    finally:
        con.close()


def test_only_an_incremental_or_posture_model_is_kept():
    kept = set(kept_tables(load_models()))
    assert "posture.domain_posture" in kept  # reads the posture checks alone
    assert "marts.daily_outcomes" in kept  # incremental
    assert not {"detect.problems", "marts.applied_policies", "posture.policy_adoption"} & kept


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
