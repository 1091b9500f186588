"""The DuckDB databases this process keeps with a lake attached, one per lake, read-only or not,
and pinned snapshot. Loading the extensions and attaching the catalog cost 0.3-1 s, and a Dagster
run opens the lake for every model step and asset check in one process; lake.open_lake hands out
cursors of these instead (a cursor is a connection of its own on the same database: closing it
leaves the database open, its `use` and transactions are its own).

- Checked on every use: an embedded catalog file that was removed or replaced since the attach
  (`tlsrpt rebuild`, a test that deletes its lake) is attached anew, never read through the old
  file. A descriptor of the file is held for the check, so its inode number cannot be reused.
- At most KEEP databases (a test session makes hundreds of lakes, a dashboard pins a new
  snapshot per build): the least recently used one is let go, not closed, because cursors
  already handed out may still run on it; it closes with the last of them.
- A database whose attach failed is never kept: the next open tries again.
- A forked child (a parser worker) keeps none of its parent's: their threads and locks do not
  exist in the child, so using one could hang. The child opens its own if it needs one.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Hashable

import duckdb

KEEP = 6  # a run: the writer and one reader; a dashboard: the newest and two pinned snapshots


@dataclass
class _Kept:
    database: duckdb.DuckDBPyConnection  # never handed out itself: only its cursors are
    catalog: Path | None  # the embedded catalog file, None with a server catalog
    catalog_fd: int | None  # held open while kept, for still_current()

    def still_current(self) -> bool:
        if self.catalog_fd is None:
            return self.catalog is None
        try:
            now, then = os.stat(self.catalog), os.fstat(self.catalog_fd)
        except OSError:  # removed, or moved aside
            return False
        return (now.st_dev, now.st_ino) == (then.st_dev, then.st_ino)

    def let_go(self) -> None:
        if self.catalog_fd is not None:
            os.close(self.catalog_fd)
            self.catalog_fd = None


_kept: OrderedDict[Hashable, _Kept] = OrderedDict()
_lock = threading.Lock()
_parents: list[duckdb.DuckDBPyConnection] = []  # in a forked child: never destroyed there (see below)


def database(key: Hashable, catalog: Path | None, attach: Callable[[], duckdb.DuckDBPyConnection]) -> duckdb.DuckDBPyConnection:
    """The kept database for `key`, made by `attach` (which loads, attaches and may raise) when
    there is none or the one kept no longer reads the file at `catalog`."""
    with _lock:
        kept = _kept.get(key)
        if kept is not None and kept.still_current():
            _kept.move_to_end(key)
            return kept.database
        if kept is not None:
            _kept.pop(key).let_go()
        fresh = attach()
        _kept[key] = _Kept(fresh, catalog, _descriptor(catalog))
        while len(_kept) > KEEP:
            _kept.popitem(last=False)[1].let_go()
        return fresh


def forget(matches: Callable[[Hashable], bool] | None = None) -> int:
    """Let go of the kept databases whose key `matches` (all of them by default), so the next open
    attaches anew; returns how many. They are not closed: see the module's docstring."""
    with _lock:
        gone = [key for key in _kept if matches is None or matches(key)]
        for key in gone:
            _kept.pop(key).let_go()
        return len(gone)


def kept_count() -> int:
    return len(_kept)


def _descriptor(catalog: Path | None) -> int | None:
    if catalog is None:
        return None
    try:
        return os.open(catalog, os.O_RDONLY)
    except OSError:  # not there after the attach (it should be): checked as missing next time
        return None


def _start_empty_in_child() -> None:
    """After fork, in the child: the parent's databases stay referenced (a destructor here would
    join threads the child does not have) but are never handed out; the lock may have been held
    by another thread of the parent at the fork, so the child gets its own."""
    global _lock
    _lock = threading.Lock()
    for kept in _kept.values():
        _parents.append(kept.database)
        kept.let_go()
    _kept.clear()


os.register_at_fork(after_in_child=_start_empty_in_child)
