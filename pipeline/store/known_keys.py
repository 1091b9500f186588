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
answer: this lookup per batch on a shared catalog; on this machine's own, the same lookup in a
copy of every key taken once, at the first batch (in DuckDB, not in Python objects).
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


@dataclass(frozen=True)
class Sources:
    """The tables a lookup reads: the lake's own, or a run's copy of them (`RunKeys`)."""

    reports: str = "reports"
    objects: str = "raw_objects"
    # The lake is asked for the batch's report dates only (its files are pruned by them); a copy
    # of every key answers by key alone, so it also finds a same-key copy of another date range.
    by_date: bool = True


LAKE = Sources()
_COPY = Sources("temp._known_reports", "temp._known_objects", by_date=False)


def lookup(con: duckdb.DuckDBPyConnection, parts: pa.Table, raw_sha256s: Sequence[str],
           landing_root: Path | None = None, sources: Sources = LAKE) -> KnownKeys:
    """`parts`: the batch's reports, columns `report_key`, `report_date`, `content_sha256` (rows
    without a key or date, such as quarantined parts, are ignored). `con`: a connection to the lake
    (`lake.open_lake`), in the transaction the batch will commit in or in none. `landing_root`:
    this machine's data dir, when other machines' packs are indexed too (only its own count)."""
    keys = parts.select(["report_key", "report_date", "content_sha256"])
    keys = keys.filter(pc.and_(pc.is_valid(keys["report_key"]), pc.is_valid(keys["report_date"])))
    known = KnownKeys()
    if keys.num_rows:
        known.reports = _loaded_reports(con, keys, sources)
    shas = [sha for sha in dict.fromkeys(raw_sha256s) if sha]
    if shas:
        known.objects = _stored_objects(con, shas, landing_root, sources.objects)
    return known


def _loaded_reports(con: duckdb.DuckDBPyConnection, keys: pa.Table, sources: Sources) -> dict[str, str]:
    dates = pc.unique(keys["report_date"]).to_pylist() if sources.by_date else []
    # An IN list of the dates themselves (one bound value each), not a range: one late report
    # would widen `between first and last` to most of the table. Measured on 1M reports in 64
    # files, recent days plus a few late ones: 3 files read, against 61 for the range or for a
    # join on (report_key, report_date).
    on_dates = f"report_date in ({', '.join('?' for _ in dates)}) and" if sources.by_date else ""
    con.register(_BATCH_KEYS, keys)
    try:
        rows = con.execute(
            f"""
            with batch as (
                select distinct report_key, content_sha256 from {_BATCH_KEYS}
            ),

            loaded as (
                select report_key, content_sha256
                from {sources.reports}
                where {on_dates} report_key in (select report_key from batch)
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


def _stored_objects(con: duckdb.DuckDBPyConnection, shas: list[str], landing_root: Path | None, objects: str) -> set[str]:
    con.register(_BATCH_RAW, pa.table({"raw_sha256": pa.array(shas, pa.string())}))
    try:
        rows = con.execute(
            f"select distinct raw_sha256, pack_path from {objects} where raw_sha256 in (select raw_sha256 from {_BATCH_RAW})"
        ).fetchall()
    finally:
        con.unregister(_BATCH_RAW)
    return {sha for sha, pack in rows if landing_root is None or (landing_root / pack).is_file()}


class RunKeys:
    """The keys and raw objects one run knows of, as two attributes: those its own batches loaded
    and stored (in memory, updated in place by the batch that decides), and those the lake holds.

    `per_batch` (a shared catalog, which other machines write): the lake is asked for each batch's
    own keys (`lookup`), so memory grows with the run, not with the lake. Otherwise (the embedded
    catalog, which only this data dir's writer-locked run writes) every key is copied once, at the
    first batch, into temporary DuckDB tables, and each batch looks there by key: exact, and
    for a run of many batches cheaper than asking the lake each time (measured in
    docs/architecture.md). The copy replaced a Python dict of every key, whose 1M tuples took
    longer to build than one new day's lookups (~1.5 s of CPU at 1M reports)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *, per_batch: bool, landing_root: Path | None = None) -> None:
        # A cursor of its own (a connection to the same lake), so a lookup never runs inside the
        # transaction the writer thread is committing the previous batch in: it reads the last
        # committed snapshot, and the batch in flight is in memory already.
        database = con.execute("select current_database()").fetchone()[0]
        self._con, self._per_batch, self._copied, self._copy_empty = con.cursor(), per_batch, False, False
        self._landing_root = landing_root
        self._con.execute(f'use "{database}"')
        self.reports: dict[str, str] = {}
        self.objects: set[str] = set()

    def for_batch(self, parts: pa.Table, raw_sha256s: Sequence[str]) -> RunKeys:
        """Add what the lake holds of this batch (what this run loaded stays as it is) and return self."""
        sources = LAKE
        if not self._per_batch:
            self._copy_once()
            if self._copy_empty:  # a first load: the lake held nothing, what the run added is above
                return self
            sources = _COPY
        found = lookup(self._con, parts, raw_sha256s, self._landing_root, sources)
        for key, content in found.reports.items():
            self.reports.setdefault(key, content)
        self.objects |= found.objects
        return self

    def _copy_once(self) -> None:
        if self._copied:
            return
        self._con.execute(f"create temp table {_COPY.reports.removeprefix('temp.')} as"
                          " select report_key, content_sha256 from reports")
        # Without the pack paths: on the embedded catalog every pack is this data dir's own.
        self._con.execute(f"create temp table {_COPY.objects.removeprefix('temp.')} as"
                          " select distinct raw_sha256, null::varchar as pack_path from raw_objects")
        self._copied = True
        # Nothing to look up in an empty copy (the first load of a new warehouse): its lookups,
        # two DuckDB queries per batch, cost ~4 % of such a run's CPU.
        # (fetchall: a result left unread keeps its transaction open, and the catalog locked.)
        self._copy_empty = not self._con.execute(
            f"select exists (from {_COPY.reports}) or exists (from {_COPY.objects})").fetchall()[0][0]

    def close(self) -> None:
        self._con.close()
