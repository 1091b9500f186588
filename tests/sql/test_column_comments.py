"""Every column of every SQL model and config table carries a comment (as the core tables do),
and sql/columns.toml names no table or column that does not exist."""

from __future__ import annotations

import duckdb

from pipeline.store.schema_comments import _model_columns
from pipeline.store.warehouse import ensure_schema
from pipeline.transform.sql_models import LAYERS, build_all


def _built() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_schema(con)
    build_all(con)
    return con


def test_every_model_and_config_column_has_a_comment():
    con = _built()
    schemas = [*LAYERS, "config"]
    missing = con.execute(
        "select schema_name || '.' || table_name || '.' || column_name from duckdb_columns()"
        " where list_contains(?, schema_name) and coalesce(comment, '') = '' order by 1", [schemas]).fetchall()
    assert not missing, f"add to sql/columns.toml: {[m for (m,) in missing]}"
    tables = con.execute(
        "select count(*) from duckdb_tables() where list_contains(?, schema_name) and coalesce(comment, '') = ''"
        " and schema_name <> 'config'", [schemas]).fetchone()
    assert tables == (0,)  # a model's table comment is its grain


def test_columns_toml_names_only_what_exists():
    con = _built()
    present = {(f"{s}.{t}", c) for s, t, c in con.execute(
        "select schema_name, table_name, column_name from duckdb_columns()"
        " where schema_name not in ('main', 'information_schema', 'pg_catalog')").fetchall()}
    names = {column for _, column in present}
    sections = _model_columns()
    assert not set(sections["columns"]) - names, "glossary entries no table has"
    stale = {(table, column) for table, entries in sections.items() if table != "columns"
             for column in entries if (table, column) not in present}
    assert not stale, stale
