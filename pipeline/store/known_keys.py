"""Which of a batch's reports and raw inputs the lake already holds, asked of the lake itself.

An in-memory set of every key, read once per run (the `KnownState` this replaced), only works
while one process writes: other machines' commits never reach it, and at millions of reports a
day it outgrows memory. Here each batch asks the lake (docs/architecture.md, "Exactly
once across writers"):

- reports: the batch's keys against `reports`, restricted to the report dates the batch carries.
  Copies of one report share its date range, so a resent report is found; the date filter is an
  IN list of bound values, which DuckLake prunes with each data file's min/max of `report_date`
  (and with the month partitions), so a batch of recent reports reads the few files of recent
  days, not the whole table. A same-key copy with another date range is not found here: the
  staging models keep one row per `report_key`, which settles that case and a race of two writers.
- raw inputs: the batch's sha256s against `raw_objects`, whose bytes a pack already stores. No
  column narrows that lookup, so it reads the sha256 column whole (costs in docs/architecture.md).
  Only packs in this machine's landing zone count: each machine keeps the bytes of everything it
  received, so its packs alone replay its arrivals (`tlsrpt rebuild`) and serve `tlsrpt raw`.

`RunKeys` is what a run hands its batches: what the run itself loaded and stored, plus the lake's
answer: this lookup per batch on a shared catalog, one read of every key on this machine's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

_BATCH_KEYS = "_known_keys_batch"
_BATCH_RAW = "_known_keys_raw"


@dataclass
class KnownKeys:
    """What the lake holds of one batch. Callers add what the batch itself loads."""

    reports: dict[str, str] = field(default_factory=dict)  # report_key -> content_sha256 of a loaded copy
    objects: set[str] = field(default_factory=set)  # raw sha256s whose bytes a pack stores


def lookup(con: duckdb.DuckDBPyConnection, parts: pa.Table, raw_sha256s: Sequence[str],
           landing_root: Path | None = None) -> KnownKeys:
    """`parts`: the batch's reports, columns `report_key`, `report_date`, `content_sha256` (rows
    without a key or date, such as quarantined parts, are ignored). `con`: a connection to the lake
    (`lake.open_lake`), in the transaction the batch will commit in or in none. `landing_root`:
    this machine's data dir, when other machines' packs are indexed too (only its own count)."""
    keys = parts.select(["report_key", "report_date", "content_sha256"])
    keys = keys.filter(pc.and_(pc.is_valid(keys["report_key"]), pc.is_valid(keys["report_date"])))
    known = KnownKeys()
    if keys.num_rows:
        known.reports = _loaded_reports(con, keys)
    shas = [sha for sha in dict.fromkeys(raw_sha256s) if sha]
    if shas:
        known.objects = _stored_objects(con, shas, landing_root)
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


def _stored_objects(con: duckdb.DuckDBPyConnection, shas: list[str], landing_root: Path | None) -> set[str]:
    con.register(_BATCH_RAW, pa.table({"raw_sha256": pa.array(shas, pa.string())}))
    try:
        rows = con.execute(
            f"select distinct raw_sha256, pack_path from raw_objects where raw_sha256 in (select raw_sha256 from {_BATCH_RAW})"
        ).fetchall()
    finally:
        con.unregister(_BATCH_RAW)
    return {sha for sha, pack in rows if landing_root is None or (landing_root / pack).is_file()}


class RunKeys:
    """The keys and raw objects one run knows of, as two attributes: those its own batches loaded
    and stored (in memory, updated in place by the batch that decides), and those the lake holds.

    `per_batch` (a shared catalog, which other machines write): the lake is asked for each batch's
    own keys (`lookup`), so memory grows with the run, not with the lake. Otherwise (the embedded
    catalog, which only this data dir's writer-locked run writes) every key is read once, at the
    first batch: exact, and for a run of many batches cheaper than a lookup each (measured in
    docs/architecture.md), and nothing at all to read when the lake is empty (a rebuild)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *, per_batch: bool, landing_root: Path | None = None) -> None:
        # A cursor of its own (a connection to the same lake), so a lookup never runs inside the
        # transaction the writer thread is committing the previous batch in: it reads the last
        # committed snapshot, and the batch in flight is in memory already.
        database = con.execute("select current_database()").fetchone()[0]
        self._con, self._per_batch, self._read_all = con.cursor(), per_batch, False
        self._landing_root = landing_root
        self._con.execute(f'use "{database}"')
        self.reports: dict[str, str] = {}
        self.objects: set[str] = set()

    def for_batch(self, parts: pa.Table, raw_sha256s: Sequence[str]) -> RunKeys:
        """Add what the lake holds of this batch (what this run loaded stays as it is) and return self."""
        if self._per_batch:
            found = lookup(self._con, parts, raw_sha256s, self._landing_root)
            for key, content in found.reports.items():
                self.reports.setdefault(key, content)
            self.objects |= found.objects
        elif not self._read_all:
            self.reports.update(self._con.execute("select report_key, content_sha256 from reports").fetchall())
            self.objects.update(row[0] for row in self._con.execute("select raw_sha256 from raw_objects").fetchall())
            self._read_all = True
        return self

    def close(self) -> None:
        self._con.close()
