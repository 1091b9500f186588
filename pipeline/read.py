"""What a reader outside the pipeline (the dashboard) may read, and how: the lake pinned to the
snapshot of the last passed model build (pipeline/store/builds.py), read-only, and the raw
report behind a report key.

A pinned snapshot never changes, so one kept connection per snapshot serves every query on it
(each on its own cursor, so Streamlit's threads do not share one), and a writer committing the
next snapshot meanwhile neither waits for it nor moves what it reads.
"""

from __future__ import annotations

import re
import threading

import duckdb
import polars as pl

from pipeline.settings import Settings
from pipeline.store import builds, lake, raw_lookup
from pipeline.store.settled_deliveries import (  # for the app: intake as settled, at the pinned build
    SETTLED_AT_BUILD as SETTLED_DELIVERIES,
)
from pipeline.store.settled_deliveries import settled_at_build as settled_deliveries
from pipeline.store.sql_text import sql_text  # noqa: F401  for the app: a search the scan sees as a constant

# The shape of every report key (pipeline.parse.report_parser.report_key: 32 hex digits of a
# sha256): a search that has not this shape cannot name a report by its key.
REPORT_KEY_SHAPE = re.compile("[0-9a-f]{32}")
KEEP_OPEN = 2  # pinned snapshots kept: the one on show and the one before it (a page still rendering)
_open: dict[tuple[str, int | None], duckdb.DuckDBPyConnection] = {}
_open_lock = threading.Lock()


def current_snapshot(settings: Settings | None = None) -> str | None:
    """The snapshot to read, the newest passed build's (else the newest), as a token
    '<lake>@<snapshot id>' (what the app's caches key on: snapshot 7 of one lake is not snapshot 7
    of another); None before the lake exists. Asked on a kept connection to the newest snapshot:
    each query sees the latest commit, and a page view does not load the extensions again."""
    settings = settings or Settings()
    if not lake.exists(settings):
        return None
    cursor = _cursor(settings, None)
    try:
        snapshot = builds.last_passed(cursor) or lake.current_snapshot(cursor)
    finally:
        cursor.close()
    return f"{lake.location(settings).described}@{snapshot}"


def snapshot_id(token: str) -> int:
    return int(token.rsplit("@", 1)[1])


class NotBuilt(Exception):
    """The snapshot has no such table yet (built by an older version, or before a model ran)."""


def _cursor(settings: Settings, snapshot: int | None) -> duckdb.DuckDBPyConnection:
    """A cursor on the kept connection to `snapshot` (None: the newest), opened on first use."""
    key = (lake.location(settings).attach, snapshot)
    with _open_lock:
        con = _open.get(key)
        if con is None:
            con = _open[key] = lake.open_lake(settings, read_only=True, snapshot=snapshot)
            pinned = [k for k in _open if k[1] is not None]
            for old in pinned[:-KEEP_OPEN]:
                del _open[old]  # not closed: a thread may still hold a cursor; it closes with the last one
        cursor = con.cursor()
    cursor.execute(f"use {lake.ALIAS}")  # a cursor is a new connection: its default catalog is memory
    return cursor


def query(snapshot: str, sql: str, params: list | tuple = (), settings: Settings | None = None) -> pl.DataFrame:
    """One query on a pinned snapshot (a current_snapshot() token); the cursor is closed before this returns."""
    cursor = _cursor(settings or Settings(), snapshot_id(snapshot))
    try:
        return cursor.sql(sql, params=list(params)).pl()
    except duckdb.CatalogException as exc:
        raise NotBuilt(str(exc)) from None
    finally:
        cursor.close()


def raw_report_json(report_key: str, snapshot: str, settings: Settings | None = None) -> str | None:
    """The report's JSON exactly as the reporter sent it (out of its mail or gzip), or None."""
    return raw_lookup.report_json(settings or Settings(), report_key, snapshot_id(snapshot))
