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
"""

from __future__ import annotations

import duckdb


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
