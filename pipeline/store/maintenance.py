"""Lake maintenance: fewer, larger data files, and no snapshot kept longer than the retention.

Every commit of a batch writes its own Parquet files (or, for at most 10 rows, keeps them inlined
in the catalog itself, DuckLake 1.0's data inlining) and leaves a snapshot that keeps every file
it reads alive. Run daily (the Dagster schedule, or `tlsrpt maintain`), in this order:

1. `ducklake_flush_inlined_data`: inlined rows go to Parquet, out of the catalog database.
2. `ducklake_merge_adjacent_files`: a table's small files become one file per partition and
   size target. The merged file serves every snapshot the small ones served (a snapshot reads
   its own row range of it), so time travel and pinned readers see the same rows, and the small
   files are scheduled for deletion at once.
3. `ducklake_expire_snapshots`: snapshots older than the retention are forgotten, but never the
   newest one nor `keep_snapshot`, the one the dashboard is pinned to (its files stay).
4. `ducklake_cleanup_old_files`: files scheduled for deletion longer than `CLEANUP_GRACE` ago
   are deleted; a query that planned its scan before the merge may still be reading them. Files
   a snapshot still reads are never scheduled, so a pinned reader loses nothing here.
5. `ducklake_delete_orphaned_files`: Parquet files under the data path that the catalog never
   knew, written longer than `ORPHAN_GRACE` ago. A writer writes a batch's files before it
   commits them; one killed in between (kill -9, a lost machine) leaves them behind for good.
   The grace keeps the files of a commit still on its way.

Each step is one commit, repeated when a concurrent writer committed first (lake.with_conflict_retry):
maintenance runs beside ingests. Never `CHECKPOINT` instead: on a lake it runs every step with
the catalog's own options, without the pinned snapshot.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from pipeline.settings import Settings
from pipeline.store import builds, lake
from pipeline.store.warehouse import writer_lock

# Longer than any read of the lake takes: a dashboard query, the alert pass and a model build's
# scans finish within minutes even at 1M reports.
CLEANUP_GRACE = timedelta(hours=1)
# A batch's files are written, then committed within seconds to minutes; a day later a file the
# catalog does not list belongs to a writer that died before its commit.
ORPHAN_GRACE = timedelta(days=1)
# Compaction reads and rewrites whole tables; two threads keep it short without taking the
# machine from an ingest that may run beside it.
MAINTENANCE_THREADS = 2
# The catalog's own table of files no snapshot reads any more (DuckLake attaches the catalog
# database beside the lake under this name).
SCHEDULED_FILES = f"__ducklake_metadata_{lake.ALIAS}.ducklake_files_scheduled_for_deletion"


@dataclass(frozen=True)
class MaintenanceSummary:
    files_before: int  # data files of the tables as they are now, before and after
    files_after: int
    rows_flushed: int  # inlined rows written out to Parquet
    snapshots_expired: int
    files_deleted: int
    bytes_freed: int | None  # None on a remote data path (s3://): sizes are not looked up there
    files_waiting: int  # no longer read, scheduled for deletion within the grace: the next run deletes them
    orphans_deleted: int  # Parquet files no commit ever listed (a writer killed before its commit)
    seconds: float

    @property
    def described(self) -> str:
        freed = "size unknown on a remote data path" if self.bytes_freed is None else f"{_size_text(self.bytes_freed)} freed"
        return (f"data files {self.files_before} -> {self.files_after} ({self.rows_flushed} inlined rows written out), "
                f"{self.snapshots_expired} snapshots expired, {self.files_deleted} old files deleted ({freed}), "
                f"{self.files_waiting} wait for the next run, {self.orphans_deleted} orphaned files of an unfinished "
                f"commit deleted, {self.seconds:.1f} s")


def run(settings: Settings) -> MaintenanceSummary:
    """Maintain the settings' lake with their retention (TLSRPT_SNAPSHOT_RETENTION_DAYS), keeping
    the snapshot readers are pinned to. Takes the writer lock like every writer on this machine
    (WarehouseBusy while an ingest or a build holds it); raises lake.LakeUnavailable when there
    is no lake, rather than create an empty one."""
    if not lake.exists(settings):
        raise lake.LakeUnavailable(f"no warehouse yet at {lake.location(settings).described}: nothing to maintain")
    with writer_lock(settings.data_dir):
        con = lake.open_lake(settings, threads=MAINTENANCE_THREADS)
        try:
            return maintain(con, retention=timedelta(days=settings.snapshot_retention_days),
                            keep_snapshot=builds.last_passed(con))
        finally:
            con.close()


def maintain(con: duckdb.DuckDBPyConnection, *, retention: timedelta, keep_snapshot: int | None,
             cleanup_grace: timedelta = CLEANUP_GRACE, orphan_grace: timedelta = ORPHAN_GRACE) -> MaintenanceSummary:
    """Run the five steps on the lake attached to `con` (lake.open_lake, not read-only)."""
    started = time.perf_counter()
    files_before = current_files(con)
    flushed = lake.with_conflict_retry(lambda: _call_sum(con, "ducklake_flush_inlined_data", "rows_flushed"))
    lake.with_conflict_retry(lambda: _call_sum(con, "ducklake_merge_adjacent_files", "files_processed"))
    expired = lake.with_conflict_retry(lambda: _expire(con, retention, keep_snapshot))
    deleted, freed = lake.with_conflict_retry(lambda: _cleanup(con, datetime.now(timezone.utc) - cleanup_grace))
    waiting = con.execute(f"select count(*) from {SCHEDULED_FILES}").fetchall()[0][0]
    orphans = len(con.execute(f"select path from ducklake_delete_orphaned_files('{lake.ALIAS}', older_than => $before)",
                              {"before": datetime.now(timezone.utc) - orphan_grace}).fetchall())
    # DuckLake 1.0 keeps the inlined-data tables of a table in a cache that a flush from another
    # attach does not clear (duckdb/ducklake#1305): the databases this process keeps
    # (pipeline/store/kept_lakes.py) would read a dropped one. They are attached anew on next use.
    lake.forget()
    return MaintenanceSummary(files_before, current_files(con), flushed, expired, deleted, freed, waiting, orphans,
                              time.perf_counter() - started)


def current_files(con: duckdb.DuckDBPyConnection) -> int:
    """Data files the tables read now (files kept only for older snapshots do not count)."""
    return con.execute(f"select coalesce(sum(file_count), 0)::bigint from ducklake_table_info('{lake.ALIAS}')").fetchall()[0][0]


def expirable(con: duckdb.DuckDBPyConnection, retention: timedelta, keep_snapshot: int | None) -> list[int]:
    """Snapshots older than the retention, without the newest and the kept one."""
    cutoff = datetime.now(timezone.utc) - retention
    return [row[0] for row in con.execute(
        f"select snapshot_id from ducklake_snapshots('{lake.ALIAS}')"
        " where snapshot_time < $cutoff and snapshot_id < $newest and snapshot_id is distinct from $keep"
        " order by snapshot_id",
        {"cutoff": cutoff, "newest": lake.current_snapshot(con), "keep": keep_snapshot},
    ).fetchall()]


def _expire(con: duckdb.DuckDBPyConnection, retention: timedelta, keep_snapshot: int | None) -> int:
    # By id, not `older_than`: an age alone would take the pinned snapshot and, in DuckLake 1.0,
    # also lists the newest one.
    versions = expirable(con, retention, keep_snapshot)
    if not versions:  # an empty list is a syntax error inside DuckLake
        return 0
    return len(con.execute(f"select snapshot_id from ducklake_expire_snapshots('{lake.ALIAS}', versions => $v)",
                           {"v": versions}).fetchall())


def _cleanup(con: duckdb.DuckDBPyConnection, scheduled_before: datetime) -> tuple[int, int | None]:
    """(files deleted, their bytes). The sizes are read just before: the function returns paths only."""
    listing = f"select path from ducklake_cleanup_old_files('{lake.ALIAS}', dry_run => $dry, older_than => $before)"
    before = _cleanup_bound(con, scheduled_before, listing)
    if before is None:
        return 0, 0
    candidates = [row[0] for row in con.execute(listing, {"dry": True, "before": before}).fetchall()]
    local = not any(path.startswith(("s3://", "gs://", "az://", "http://", "https://")) for path in candidates)
    sizes = {path: _size(path) for path in candidates} if local else {}
    deleted = [row[0] for row in con.execute(listing, {"dry": False, "before": before}).fetchall()]
    return len(deleted), sum(sizes.get(path, 0) for path in deleted) if local else None


def _cleanup_bound(con: duckdb.DuckDBPyConnection, scheduled_before: datetime, listing: str) -> datetime | None:
    """An `older_than` that selects exactly the files scheduled before it, itself no later than
    `scheduled_before`; None when there is none. With a SQLite catalog DuckLake 1.0 compares the
    times as text ('2026-12-04 16:51:58+00' against '2026-12-04T15:51:58', where the space sorts
    first), so every file scheduled on that day passes, however recent (measured; PostgreSQL
    compares times). Then the end of the day before is used, and the rest waits for the next run."""
    day = scheduled_before.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(microseconds=1)
    for bound in (scheduled_before, day, day - timedelta(days=1)):
        due = con.execute(f"select count(*) from {SCHEDULED_FILES} where schedule_start::timestamptz < $before",
                          {"before": bound}).fetchall()[0][0]
        if len(con.execute(listing, {"dry": True, "before": bound}).fetchall()) == due:
            return bound
    return None


def _call_sum(con: duckdb.DuckDBPyConnection, function: str, column: str) -> int:
    # fetchall, not fetchone: a result read only in part leaves the statement open, and the
    # next statement on the connection then drops the maintenance function's commit (measured:
    # the merged files written, the catalog unchanged).
    return con.execute(f"select coalesce(sum({column}), 0)::bigint from {function}('{lake.ALIAS}')").fetchall()[0][0]


def _size(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:  # already gone (another cleanup), or not a local path after all
        return 0


def _size_text(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    value = size / 1000
    for unit in ("KB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"
