"""Freshness is judged against the clock: old data says so loudly, current data does not."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl

from app import data, freshness
from pipeline.generate import write_corpus
from pipeline.settings import Settings
from pipeline.transform.sql_models import refresh_all
from tests.app.test_pages import app_at
from tests.conftest import ingest_into


def test_current_data_raises_no_alarm_and_lists_reporters_on_time(tmp_path: Path, monkeypatch):
    yesterday = datetime.now(timezone.utc).date() - timedelta(days=1)
    write_corpus(tmp_path / "corpus", domains=2, days=10, seed=3, start=yesterday - timedelta(days=9), formats=("files",))
    ingest_into(tmp_path / "data", [tmp_path / "corpus" / "files"])
    refresh_all(Settings(data_dir=tmp_path / "data"))
    at = app_at(tmp_path / "data", monkeypatch)
    assert not at.exception, at.exception
    assert not [e for e in at.error if "Stale data" in e.value]
    reporters = next(t.value for t in at.dataframe if "overdue" in t.value.columns and "reporter" in t.value.columns)
    assert reporters["last_report_day"].max().date() == yesterday and not reporters["overdue"].any()
    # The same warehouse, a week later by the clock: stale, and every page says so first.
    verdict = freshness.verdict(data.current_snapshot(), today=yesterday + timedelta(days=8))  # env set by app_at
    assert verdict.stale and verdict.newest_day == yesterday and verdict.days_behind == 8


def test_a_channel_that_went_quiet_is_overdue():
    now = datetime(2026, 5, 10, 12, tzinfo=timezone.utc)
    channels = pl.DataFrame({"channel": ["imap", "file"],
                             "last_arrival": [now - timedelta(days=6), now - timedelta(hours=3)],
                             "last_report_day": [date(2026, 5, 3), date(2026, 5, 9)], "reports": [10, 20]})
    marked = freshness.quiet_channels(channels, allowed_days=3, now=now)
    assert marked["overdue"].to_list() == [True, False] and marked["days_since_arrival"].to_list() == [6, 0]
