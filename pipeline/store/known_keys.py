"""Which of a batch's reports and raw inputs the lake already holds, asked of the lake itself.

The in-memory `KnownState` (pipeline/store/warehouse.py) reads every key once per run, which
only works while one process writes: other machines' commits never reach it, and at millions of
reports a day it outgrows memory. Here each batch asks the lake (docs/architecture.md, "Exactly
once across writers"):

- reports: the batch's keys against `reports`, restricted to the report dates the batch carries.
  Copies of one report share its date range, so a resent report is found; the date filter is an
  IN list of bound values, which DuckLake prunes with each data file's min/max of `report_date`
  (and with the month partitions), so a batch of recent reports reads the few files of recent
  days, not the whole table. A same-key copy with another date range is not found here: the
  staging models keep one row per `report_key`, which settles that case and a race of two writers.
- raw inputs: the batch's sha256s against `raw_objects`, whose bytes a pack already stores. No
  column narrows that lookup, so it reads the sha256 column whole (costs in docs/architecture.md).

The answer has KnownState's two attributes, so a batch can decide and land with either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

_BATCH_KEYS = "_known_keys_batch"
_BATCH_RAW = "_known_keys_raw"


@dataclass
class KnownKeys:
    """What the lake holds of one batch. Callers add what the batch itself loads, as with KnownState."""

    reports: dict[str, str] = field(default_factory=dict)  # report_key -> content_sha256 of a loaded copy
    objects: set[str] = field(default_factory=set)  # raw sha256s whose bytes a pack stores


def lookup(con: duckdb.DuckDBPyConnection, parts: pa.Table, raw_sha256s: Sequence[str]) -> KnownKeys:
    """`parts`: the batch's reports, columns `report_key`, `report_date`, `content_sha256` (rows
    without a key or date, such as quarantined parts, are ignored). `con`: a connection to the lake
    (`lake.open_lake`), in the transaction the batch will commit in or in none."""
    keys = parts.select(["report_key", "report_date", "content_sha256"])
    keys = keys.filter(pc.and_(pc.is_valid(keys["report_key"]), pc.is_valid(keys["report_date"])))
    known = KnownKeys()
    if keys.num_rows:
        known.reports = _loaded_reports(con, keys)
    shas = [sha for sha in dict.fromkeys(raw_sha256s) if sha]
    if shas:
        known.objects = _stored_objects(con, shas)
    return known


def _loaded_reports(con: duckdb.DuckDBPyConnection, keys: pa.Table) -> dict[str, str]:
    dates = pc.unique(keys["report_date"]).to_pylist()
    # An IN list of the dates themselves (one bound value each), not a range: one late report
    # would widen `between first and last` to most of the table. Measured on 1M reports in 64
    # files, recent days plus a few late ones: 3 files read, against 61 for the range or for a
    # join on (report_key, report_date).
    placeholders = ", ".join("?" for _ in dates)
    con.register(_BATCH_KEYS, keys)
    try:
        rows = con.execute(
            f"""
            with batch as (
                select distinct report_key, content_sha256 from {_BATCH_KEYS}
            ),

            loaded as (
                select report_key, content_sha256
                from reports
                where report_date in ({placeholders})
                    and report_key in (select report_key from batch)
            )

            -- Two writers may both have loaded a key: prefer the copy with this batch's content,
            -- so a resent report reads as the same report, not as a conflicting one.
            select
                loaded.report_key,
                coalesce(
                    min(loaded.content_sha256) filter (where batch.report_key is not null),
                    min(loaded.content_sha256)
                ) as content_sha256
            from loaded
            left join batch
                on loaded.report_key = batch.report_key and loaded.content_sha256 = batch.content_sha256
            group by loaded.report_key
            """,
            dates,
        ).fetchall()
    finally:
        con.unregister(_BATCH_KEYS)
    return dict(rows)


def _stored_objects(con: duckdb.DuckDBPyConnection, shas: list[str]) -> set[str]:
    con.register(_BATCH_RAW, pa.table({"raw_sha256": pa.array(shas, pa.string())}))
    try:
        rows = con.execute(
            f"select distinct raw_sha256 from raw_objects where raw_sha256 in (select raw_sha256 from {_BATCH_RAW})"
        ).fetchall()
    finally:
        con.unregister(_BATCH_RAW)
    return {row[0] for row in rows}
