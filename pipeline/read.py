"""What a reader outside the pipeline (the dashboard) may read, and how: the lake pinned to the
snapshot of the last passed model build (pipeline/store/builds.py), read-only, and the raw
report behind a report key.

A pinned snapshot never changes, so one connection per snapshot serves every query on it (each
on its own cursor, so Streamlit's threads do not share one), and a writer committing the next
snapshot meanwhile neither waits for it nor moves what it reads.
"""

from __future__ import annotations

import threading

import duckdb
import polars as pl

from pipeline.settings import Settings
from pipeline.store import builds, lake, raw_lookup

KEEP_OPEN = 2  # the snapshot on show and the one before it (a page still rendering)
_open: dict[tuple[str, int], duckdb.DuckDBPyConnection] = {}
_open_lock = threading.Lock()


def current_snapshot(settings: Settings | None = None) -> int | None:
    """The snapshot to read: the newest passed build's; None before the lake exists."""
    return builds.snapshot_to_read(settings or Settings())


class NotBuilt(Exception):
    """The snapshot has no such table yet (built by an older version, or before a model ran)."""


def _pinned(settings: Settings, snapshot: int) -> duckdb.DuckDBPyConnection:
    key = (lake.location(settings).attach, snapshot)
    with _open_lock:
        con = _open.get(key)
        if con is None:
            con = _open[key] = lake.open_lake(settings, read_only=True, snapshot=snapshot)
            for old in list(_open)[:-KEEP_OPEN]:
                del _open[old]  # not closed: a thread may still hold a cursor; it closes with the last one
        cursor = con.cursor()
    cursor.execute(f"use {lake.ALIAS}")  # a cursor is a new connection: its default catalog is memory
    return cursor


def query(snapshot: int | str, sql: str, params: list | tuple = (), settings: Settings | None = None) -> pl.DataFrame:
    """One query on a pinned snapshot; the cursor is closed before this returns."""
    cursor = _pinned(settings or Settings(), int(snapshot))
    try:
        return cursor.sql(sql, params=list(params)).pl()
    except duckdb.CatalogException as exc:
        raise NotBuilt(str(exc)) from None
    finally:
        cursor.close()


def raw_report_json(report_key: str, snapshot: int | str, settings: Settings | None = None) -> str | None:
    """The report's JSON exactly as the reporter sent it (out of its mail or gzip), or None."""
    return raw_lookup.report_json(settings or Settings(), report_key, int(snapshot))
