"""Published read-only snapshots of the warehouse, for the dashboard.

DuckDB lets one process write a file and, while it does, locks every reader out:
a dashboard holding the warehouse open would stall the pipeline, and the pipeline would break
the dashboard. So after each run the pipeline copies the checkpointed file to
`<data>/snapshots/<stamp>.duckdb` and points `CURRENT` at it; readers open the snapshot
read-only, per query, and never touch the live file. Old snapshots are pruned (readers that
still hold one keep reading it: an unlinked file lives until closed).
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

from pipeline.settings import Settings
from pipeline.store.warehouse import writer_lock

KEEP = 3


def snapshot_dir(settings: Settings) -> Path:
    return settings.data_dir / "snapshots"


def _source_stamp(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_mtime_ns} {stat.st_size}"


def publish(settings: Settings) -> Path | None:
    """Copy the (checkpointed, closed) warehouse to a new snapshot and make it current; keep the
    current one when the warehouse file has not changed since it was copied (a run with nothing
    new: copying a 1M-report warehouse costs seconds for the same bytes)."""
    if not settings.db_path.exists():
        return None
    folder = snapshot_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"warehouse-{stamp}.duckdb"
    with writer_lock(settings.data_dir):  # nobody writes while we copy
        source = _source_stamp(settings.db_path)
        existing, recorded = current(settings), folder / "CURRENT.source"
        if existing and recorded.exists() and recorded.read_text() == source:
            return existing
        tmp = folder / f".tmp-{stamp}"
        shutil.copyfile(settings.db_path, tmp)
        os.replace(tmp, target)
        pointer = folder / ".CURRENT.tmp"
        pointer.write_text(target.name)
        os.replace(pointer, folder / "CURRENT")
        # Written after CURRENT: a crash in between only costs one more copy next time.
        (folder / ".CURRENT.source.tmp").write_text(source)
        os.replace(folder / ".CURRENT.source.tmp", recorded)
    for old in sorted(folder.glob("warehouse-*.duckdb"))[:-KEEP]:
        old.unlink(missing_ok=True)
    return target


def sweep_stray_copies(settings: Settings) -> int:
    """Remove the temp copies a run killed while publishing left (nothing points at them).
    Called under the writer lock, so no publish is under way."""
    folder = snapshot_dir(settings)
    strays = [*folder.glob(".tmp-*"), *folder.glob(".CURRENT*.tmp")] if folder.is_dir() else []
    for stray in strays:
        stray.unlink(missing_ok=True)
    return len(strays)


def current(settings: Settings) -> Path | None:
    pointer = snapshot_dir(settings) / "CURRENT"
    if not pointer.exists():
        return None
    path = snapshot_dir(settings) / pointer.read_text().strip()
    return path if path.exists() else None
