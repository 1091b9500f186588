"""Lake maintenance (pipeline/store/maintenance.py): many small batches become a few files, every
query answers the same before and after, at the newest snapshot and at the kept one, and what
the retention expires is gone, files included."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline.settings import Settings
from pipeline.store import builds, lake, maintenance
from pipeline.store.warehouse import WarehouseBusy, writer_lock

BATCHES = 200
BATCH_ROWS = 50
# Every question an analyst could ask of the rows: a lost, doubled or changed row moves one.
ANSWERS = "select count(*), sum(id), count(distinct id), count(distinct report_date), max(label), min(label) from reports"


def small_batches(settings: Settings, batches: int = BATCHES, rows: int = BATCH_ROWS) -> list[int]:
    """A `reports` table partitioned by month as the core tables are, filled by many small
    commits spanning two months; returns the snapshot id after each commit."""
    con = lake.open_lake(settings)
    con.execute("create table reports (id bigint, report_date date, label varchar)")
    con.execute("alter table reports set partitioned by (year(report_date), month(report_date))")
    snapshots = []
    for batch in range(batches):
        con.execute("insert into reports select $first + range, date '2024-01-20' + ((range + $batch) % 20)::int,"
                    " 'batch ' || $batch from range($rows)",
                    {"first": batch * BATCH_ROWS, "batch": batch, "rows": rows})
        snapshots.append(lake.current_snapshot(con))
    con.close()
    return snapshots


def answers(settings: Settings, snapshot: int | None = None) -> tuple:
    con = lake.open_lake(settings, read_only=True, snapshot=snapshot)
    try:
        return con.execute(ANSWERS).fetchone()
    finally:
        con.close()


def files_on_disk(settings: Settings) -> dict[Path, int]:
    return {path: path.stat().st_size for path in (settings.data_dir / "lake" / "data").rglob("*.parquet")}


def test_small_batches_are_merged_and_every_kept_snapshot_reads_the_same(tmp_path: Path):
    settings = Settings(data_dir=tmp_path)
    snapshots = small_batches(settings)
    kept, expired = snapshots[BATCHES // 2], snapshots[BATCHES // 4]
    newest_before, kept_before = answers(settings), answers(settings, kept)
    assert answers(settings, expired) != kept_before  # the snapshots differ, so comparing them means something
    disk_before = files_on_disk(settings)

    con = lake.open_lake(settings)
    done = maintenance.maintain(con, retention=timedelta(0), keep_snapshot=kept, cleanup_grace=timedelta(0))
    remaining = [row[0] for row in con.execute("select snapshot_id from ducklake_snapshots('lake')").fetchall()]
    con.close()

    # Two months, one file each, from 2 files per batch.
    assert done.files_before == len(disk_before) == 2 * BATCHES
    assert done.files_after == 2 and done.rows_flushed == 0
    assert answers(settings) == newest_before
    assert answers(settings, kept) == kept_before
    # Only the kept snapshot and the newest one (the merge's own commit) remain of ids 0..newest.
    assert remaining == [kept, remaining[-1]] and done.snapshots_expired == remaining[-1] + 1 - 2
    with pytest.raises(lake.LakeUnavailable, match="No snapshot found"):
        answers(settings, expired)
    # The merged files serve both snapshots: everything else is deleted, and counted.
    disk_after = files_on_disk(settings)
    assert len(disk_after) == done.files_after
    gone = set(disk_before) - set(disk_after)
    assert done.files_deleted == len(gone) == len(disk_before)
    assert done.bytes_freed == sum(disk_before[path] for path in gone)


def test_within_the_retention_nothing_is_expired_and_no_file_read_may_vanish(tmp_path: Path):
    settings = Settings(data_dir=tmp_path)
    snapshots = small_batches(settings, batches=20)
    first_before = answers(settings, snapshots[0])
    disk_before = files_on_disk(settings)

    done = maintenance.run(settings)  # the settings' 7 days, the default grace

    assert done.files_after == 2 and done.snapshots_expired == 0 and done.files_deleted == 0
    assert done.files_waiting == len(disk_before)
    # The small files are merged, yet stay on disk for the grace: a query that planned its scan
    # before the merge may still read them.
    assert set(disk_before) <= set(files_on_disk(settings))
    assert answers(settings, snapshots[0]) == first_before


def test_a_second_run_finds_nothing_to_do(tmp_path: Path):
    settings = Settings(data_dir=tmp_path)
    small_batches(settings, batches=20)
    con = lake.open_lake(settings)
    maintenance.maintain(con, retention=timedelta(0), keep_snapshot=None, cleanup_grace=timedelta(0))
    again = maintenance.maintain(con, retention=timedelta(0), keep_snapshot=None, cleanup_grace=timedelta(0))
    con.close()
    assert (again.files_before, again.files_after, again.rows_flushed, again.files_deleted, again.files_waiting) == (
        2, 2, 0, 0, 0)
    assert again.snapshots_expired == 0  # the newest snapshot is never expired


def test_rows_inlined_in_the_catalog_are_written_out(tmp_path: Path):
    settings = Settings(data_dir=tmp_path)
    small_batches(settings, batches=5, rows=3)  # DuckLake 1.0 keeps inserts of at most 10 rows in the catalog
    before = answers(settings)
    con = lake.open_lake(settings)
    assert maintenance.current_files(con) == 0
    done = maintenance.maintain(con, retention=timedelta(days=1), keep_snapshot=None)
    con.close()
    assert done.rows_flushed == 15 and done.files_after >= 1
    assert answers(settings) == before


def test_the_kept_snapshot_is_the_newest_passed_build(tmp_path: Path):
    settings = Settings(data_dir=tmp_path)
    snapshots = small_batches(settings, batches=3)
    con = lake.open_lake(settings)
    assert builds.last_passed(con) is None  # no model build yet: readers read the newest
    con.execute("create table builds (snapshot_id bigint, built_at timestamptz, passed boolean)")
    con.execute("insert into builds values (?, now(), true), (?, now(), true), (?, now(), false)", snapshots)
    assert builds.last_passed(con) == snapshots[1]
    con.close()


def test_no_lake_is_one_line_and_a_held_writer_lock_fails_fast(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "data")
    with pytest.raises(lake.LakeUnavailable, match="no warehouse yet"):
        maintenance.run(settings)
    assert not (tmp_path / "data" / "lake").exists()
    small_batches(settings, batches=1)
    with writer_lock(settings.data_dir), pytest.raises(WarehouseBusy):
        maintenance.run(settings)


def test_tlsrpt_maintain_prints_what_it_did(tmp_path: Path):
    small_batches(Settings(data_dir=tmp_path), batches=20)
    result = subprocess.run([sys.executable, "-m", "pipeline", "maintain", "--data-dir", str(tmp_path)],
                            capture_output=True, text=True, env={**os.environ, "COLUMNS": "300"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("data files 40 -> 2 (0 inlined rows written out), 0 snapshots expired, "
                                    "0 old files deleted (0 bytes freed), 40 wait for the next run, 0 orphaned files of an unfinished "
                                    "commit deleted, ")


def test_only_files_unread_for_longer_than_the_grace_are_deleted(tmp_path: Path):
    """Files unread since yesterday go, files unread for minutes stay, on the SQLite catalog too
    (where DuckLake compares the cleanup times as text)."""
    import sqlite3

    settings = Settings(data_dir=tmp_path)
    small_batches(settings, batches=10)
    con = lake.open_lake(settings)
    maintenance.maintain(con, retention=timedelta(days=1), keep_snapshot=None)  # 20 files merged, kept for the grace
    con.close()
    catalog = sqlite3.connect(tmp_path / "lake" / "catalog.sqlite")
    with catalog:  # the first 12 as if scheduled yesterday
        catalog.execute("update ducklake_files_scheduled_for_deletion set schedule_start ="
                        " strftime('%Y-%m-%d %H:%M:%f+00', 'now', '-1 day') where data_file_id in"
                        " (select data_file_id from ducklake_files_scheduled_for_deletion order by data_file_id limit 12)")
    catalog.close()
    con = lake.open_lake(settings)
    done = maintenance.maintain(con, retention=timedelta(days=1), keep_snapshot=None)
    con.close()
    assert (done.files_deleted, done.files_waiting) == (12, 8)
    assert len(files_on_disk(settings)) == 2 + 8


def test_files_of_a_commit_that_never_happened_go_after_a_day(tmp_path: Path):
    """A writer killed between writing a batch's Parquet and its commit leaves files no snapshot
    lists: deleted once older than the grace, while a fresh one (a commit on its way) stays."""
    settings = Settings(data_dir=tmp_path)
    small_batches(settings, batches=3)
    before = answers(settings)
    table_dir = next(p.parent for p in files_on_disk(settings))
    stale, fresh = table_dir / "ducklake-killed-writer.parquet", table_dir / "ducklake-commit-on-its-way.parquet"
    for path in (stale, fresh):
        path.write_bytes(b"PAR1 not a real file PAR1")
    day_ago = (datetime.now(timezone.utc) - timedelta(days=1, minutes=5)).timestamp()
    os.utime(stale, (day_ago, day_ago))
    con = lake.open_lake(settings)
    done = maintenance.maintain(con, retention=timedelta(days=1), keep_snapshot=None)
    con.close()
    assert done.orphans_deleted == 1
    assert not stale.exists() and fresh.exists()
    assert answers(settings) == before
