"""An empty table of the lake, given the statistics DuckLake 1.5.5 leaves out.

DuckLake 1.5.5 writes no statistics for a table that never held a row, and then asks the catalog
again, for every column, in every statement that reads it (fixed upstream by duckdb/ducklake PR
1313, not in a 1.5.5 build). Tables that stay empty for a long time are common here: the posture
checks and their models for anyone who never runs `tlsrpt posture`, detections with nothing to
report, config.model_failures. On a new day on top of 100k reports that was 188 catalog queries
in one model build (67 once the models had statistics), ~0.1 s for each read of an empty posture
table at 1M. A row inserted and deleted in the same transaction leaves the table empty, with no
data file, and with statistics (record_count 0).

That works only where DuckLake inlines small inserts: the core and config tables. The model
schemas inline nothing (pipeline/store/warehouse.py, MODEL_SCHEMAS: inlining left a catalog table
behind per table a build replaced, and every read slowed with their number), and there the
placeholder's Parquet file is dropped with its statistics: a model built empty goes without.
Those a build reads in the same transaction that made them cost nothing more; those that outlive
a build (the posture models of a warehouse without posture checks, an incremental table such as
staging.report_copies) cost every later build that reads them, 0.02-0.08 s a read at 1M, ~0.3 s
of a new day's build there. `give_models_statistics` lets inlining into such a table for one
transaction, after the build: one catalog table for its (empty) inlined rows, once per table.
"""

from __future__ import annotations

import duckdb

from pipeline.store import lake
from pipeline.store.sql_text import sql_text


def _placeholder(column_type: str) -> str:
    """A value of the type for a NOT NULL column; it is deleted before the transaction commits."""
    if column_type.endswith("[]"):
        return f"[]::{column_type}"
    if column_type == "VARCHAR":
        return "''"
    if column_type == "BOOLEAN":
        return "false"
    if column_type.startswith(("DATE", "TIMESTAMP", "TIME")):
        return f"cast('1970-01-01' as {column_type})"
    return f"cast(0 as {column_type})"  # the integers, decimals and floats of our schemas


def give_statistics(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """If `table` holds no row: insert one and delete it (in the caller's transaction)."""
    if con.execute(f"select exists (from {table})").fetchone()[0]:
        return
    columns = con.execute(f"describe {table}").fetchall()
    values = ", ".join("null" if nullable == "YES" else _placeholder(column_type)
                       for _, column_type, nullable, *_ in columns)
    con.execute(f"insert into {table} values ({values})")
    con.execute(f"delete from {table}")


def give_models_statistics(con: duckdb.DuckDBPyConnection, tables: list[str]) -> list[str]:
    """Statistics for those of `tables` (model tables, "schema.name") that never held a row. Its
    own transaction (retried when another writer commits first), after the build that made them
    commits: the placeholder row is never seen, as in give_statistics. Returns the tables given them."""
    if not tables:
        return []
    meta = f"__ducklake_metadata_{lake.ALIAS}"  # DuckLake's catalog tables, as its spec names them
    missing = con.execute(
        f"select s.schema_name, t.table_name from {meta}.ducklake_table as t"
        f" join {meta}.ducklake_schema as s on s.schema_id = t.schema_id and s.end_snapshot is null"
        f" where t.end_snapshot is null"
        f" and s.schema_name || '.' || t.table_name in ({', '.join(map(sql_text, tables))})"
        f" and t.table_id not in (select table_id from {meta}.ducklake_table_stats) order by 1, 2").fetchall()
    if not missing:
        return []

    def give(con: duckdb.DuckDBPyConnection) -> None:
        for schema, name in missing:
            # The table's own limit, over its schema's 0 for this transaction only: set back
            # before the commit, which is when DuckLake decides where the rows go.
            option = f"call {lake.ALIAS}.set_option('data_inlining_row_limit', {{}}, schema => {sql_text(schema)}," \
                     f" table_name => {sql_text(name)})"
            con.execute(option.format(1))
            give_statistics(con, f"{schema}.{name}")
            con.execute(option.format(0))

    lake.in_transaction(con, give)
    return [f"{schema}.{name}" for schema, name in missing]
