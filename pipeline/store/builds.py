"""Which lake snapshot readers pin: the one of the last model build that passed.

Every committed batch and model build is a lake snapshot. Between an ingest's batches and the
model build after them the marts lag the core tables; a failed model keeps its last table.
So each build records its snapshot in `builds`, and the dashboard and the alert pass read the
newest passed one (`ATTACH … (SNAPSHOT_VERSION n)`): what they show never moves mid-build, and
never waits for a writer.
"""

from __future__ import annotations

import duckdb

from pipeline.settings import Settings
from pipeline.store import lake


def record_build(con: duckdb.DuckDBPyConnection, passed: bool) -> int:
    """Record the snapshot the model build just committed; `passed`: no model failed."""
    snapshot = lake.current_snapshot(con)
    con.execute("insert into builds values (?, now(), ?)", [snapshot, passed])
    return snapshot


def last_passed(con: duckdb.DuckDBPyConnection) -> int | None:
    """The snapshot of the newest passed build, as the connection sees the lake."""
    try:
        return con.execute("select max(snapshot_id) from builds where passed").fetchone()[0]
    except duckdb.CatalogException:  # the lake was stopped before its schema existed
        return None


def snapshot_to_read(settings: Settings) -> int | None:
    """The snapshot readers pin: the newest passed build's, else (no build passed yet: an ingest
    with --no-models, or every build failed) the newest snapshot. None: no lake yet."""
    if not lake.exists(settings):
        return None
    con = lake.open_lake(settings, read_only=True)
    try:
        return last_passed(con) or lake.current_snapshot(con)
    finally:
        con.close()
