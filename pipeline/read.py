"""What a reader outside the pipeline (the dashboard) may read, and how: the latest published
snapshot, opened read-only for one query at a time, and the raw report behind a report key.

Never the live warehouse file: while an ingest writes it, DuckDB would lock a reader out (and a
reader would lock the writer out), so readers get the copy published after every run."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipeline.settings import Settings
from pipeline.store import raw_lookup, snapshot


def current_snapshot(settings: Settings | None = None) -> Path | None:
    """The newest published snapshot, or None before the first run published one."""
    return snapshot.current(settings or Settings())


class NotBuilt(Exception):
    """The snapshot has no such table yet (published by an older version, or before a model ran)."""


def query(snapshot_path: str | Path, sql: str, params: list | tuple = ()) -> pl.DataFrame:
    """One query on a snapshot; the connection is closed before this returns."""
    con = duckdb.connect(str(snapshot_path), read_only=True)
    try:
        return con.sql(sql, params=list(params)).pl()
    except duckdb.CatalogException as exc:
        raise NotBuilt(str(exc)) from None
    finally:
        con.close()


def raw_report_json(report_key: str, snapshot_path: str | Path, settings: Settings | None = None) -> str | None:
    """The report's JSON exactly as the reporter sent it (out of its mail or gzip), or None."""
    return raw_lookup.report_json(settings or Settings(), report_key, Path(snapshot_path))
