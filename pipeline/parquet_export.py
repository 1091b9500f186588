"""Parquet copies of the core tables, one file per partition, replaced atomically.

`reports`, `policies` and `failure_details` are partitioned by `report_date` (the day a report
describes), `deliveries` by `ingested_date`. Only partitions marked dirty by a batch are written
again. A killed COPY leaves a torn file at its target (TESTBED.md 5), so DuckDB writes into a
staging folder and each finished file is renamed over the old one.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import duckdb

PARTITION_COLUMN = {
    "reports": "report_date",
    "policies": "report_date",
    "failure_details": "report_date",
    "deliveries": "ingested_date",
}


def export_dirty(con: duckdb.DuckDBPyConnection, parquet_dir: Path) -> int:
    """Write every dirty partition; return how many files were replaced."""
    for stale in parquet_dir.glob("*/.staging-*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by a killed export
    written = 0
    # Ingest keeps DuckDB on one thread (the parsers own the cores); the export runs after them.
    con.execute(f"set threads = {os.cpu_count() or 1}")
    for table, column in PARTITION_COLUMN.items():
        values = [r[0] for r in con.execute(
            "select partition_value from dirty_partitions where table_name = ? order by 1", [table]
        ).fetchall()]
        if not values:
            continue
        staging = parquet_dir / table / f".staging-{uuid.uuid4().hex}"
        staging.mkdir(parents=True)
        target = str(staging).replace("'", "''")  # COPY TO takes no bound parameter for the path
        con.execute(
            # Rows in table order (the order they arrived and were committed); sorting by a hash
            # key cost 40 % of the export and no reader gains from it.
            f"copy (select * from {table} where {column}::varchar in (select unnest(?::varchar[]))) "
            f"to '{target}' (format parquet, partition_by ({column}), compression snappy)",
            [values],
        )
        for value in values:
            target_dir = parquet_dir / table / f"{column}={value}"
            produced = list((staging / f"{column}={value}").glob("*.parquet"))
            target_dir.mkdir(parents=True, exist_ok=True)
            if produced:
                os.replace(produced[0], target_dir / "data.parquet")
                written += 1
            else:  # every row of the partition is gone: drop the stale file
                (target_dir / "data.parquet").unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        con.execute(
            "delete from dirty_partitions where table_name = ? and partition_value in (select unnest(?::varchar[]))",
            [table, values],
        )
    return written
