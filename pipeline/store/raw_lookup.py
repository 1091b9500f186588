"""Find the raw bytes behind a report or a delivery, through the raw_objects index."""

from __future__ import annotations

from pipeline.parse.envelope import Envelope
from pipeline.parse.extract import extract
from pipeline.settings import Settings
from pipeline.store import lake
from pipeline.store.landing import read_object
from pipeline.store.warehouse import object_location


def find_raw(settings: Settings, key: str, snapshot: int | None = None) -> bytes | None:
    """`key` is a report_key or a raw_sha256; None when neither is known. `snapshot`: the lake
    snapshot the dashboard shows (else the newest)."""
    if not lake.exists(settings):
        return None
    con = lake.open_lake(settings, read_only=True, snapshot=snapshot)
    try:
        sha = con.execute("select coalesce((select raw_sha256 from reports where report_key = ? limit 1), ?)",
                          [key, key]).fetchone()[0]
        row = object_location(con, sha, settings.data_dir)
    finally:
        con.close()
    return read_object(settings.data_dir, row[0], row[1], row[2]) if row else None


def report_json(settings: Settings, report_key: str, snapshot: int | None = None) -> str | None:
    """The report's JSON as the reporter sent it, taken out of whatever carried it (mail, gzip...)."""
    raw = find_raw(settings, report_key, snapshot)
    if raw is None:
        return None
    _, outcomes = extract(raw, Envelope())
    for outcome in outcomes:
        if outcome.parsed is not None and outcome.parsed.report_key == report_key:
            return outcome.parsed.payload.decode("utf-8-sig", errors="replace")
    return None
