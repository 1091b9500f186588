"""Find the raw bytes behind a report or a delivery, through the raw_objects index."""

from __future__ import annotations

import duckdb

from pipeline.landing import read_object
from pipeline.settings import Settings


def find_raw(settings: Settings, key: str) -> bytes | None:
    """`key` is a report_key or a raw_sha256; None when neither is known."""
    if not settings.db_path.exists():
        return None
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        row = con.execute(
            "select o.pack_path, o.byte_offset, o.byte_size from raw_objects o"
            " where o.raw_sha256 = coalesce((select raw_sha256 from reports where report_key = ?), ?) limit 1",
            [key, key],
        ).fetchone()
    finally:
        con.close()
    return read_object(settings.data_dir, row[0], row[1], row[2]) if row else None
