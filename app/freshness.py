"""Is the data current? Judged against the clock, not against the newest report day: a mailbox
that stopped delivering, or a demo warehouse from last spring, must not look healthy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import polars as pl

from app.data import _q

# A report covers a UTC day and arrives within about a day of its end (Google 10-16 h, Microsoft
# about 20 h, DOMAIN.md 8.3): the newest report day is normally yesterday, at worst the day before.
DELIVERY_DAYS = 2


@dataclass(frozen=True)
class Verdict:
    stale: bool
    newest_day: date | None
    days_behind: int  # days between the newest report day and today (UTC)
    allowed_days: int  # how far behind it may be: delivery delay + the usual gap between report days
    last_arrival: datetime | None


def channels(snap: str) -> pl.DataFrame:
    """Per intake channel: the last input that carried a report, and the newest report day it brought."""
    return _q(
        "select d.channel, max(d.ingested_at) as last_arrival, max(r.report_date) as last_report_day,"
        " count(distinct d.report_key) as reports from main.deliveries d join main.reports r using (report_key)"
        " where d.outcome in ('loaded', 'duplicate') group by d.channel order by last_arrival desc", [], snap)


def reporters(snap: str) -> pl.DataFrame:
    """Per reporter: its newest report day and arrival, and its usual gap between report days
    (the median over its last 30 report days)."""
    return _q(
        "with days as (select distinct reporter, report_date from staging.reports),"
        " gaps as (select reporter, report_date, date_diff('day', lag(report_date) over w, report_date) as gap,"
        " row_number() over (partition by reporter order by report_date desc) as recent from days"
        " window w as (partition by reporter order by report_date)),"
        " cadence as (select reporter, coalesce(median(gap) filter (where recent <= 30), 1) as usual_gap_days from gaps group by 1)"
        " select r.reporter, mode(r.organization_name) as organization, max(r.report_date) as last_report_day,"
        " max(r.received_at) as last_received_at, any_value(c.usual_gap_days) as usual_gap_days, count(*) as reports"
        " from staging.reports r join cadence c using (reporter) group by r.reporter order by last_report_day desc, 1",
        [], snap)


def usual_gap(snap: str) -> int:
    """The longest gap between two consecutive report days, all reporters together, over the last
    30 report days: how long the warehouse normally waits for news."""
    frame = _q(
        "with days as (select distinct report_date from marts.daily_domain_sessions order by 1 desc limit 30)"
        " select coalesce(max(gap), 1) as gap from (select date_diff('day', lag(report_date) over (order by report_date),"
        " report_date) as gap from days)", [], snap)
    return int(frame["gap"][0])


def verdict(snap: str, today: date | None = None) -> Verdict:
    today = today or datetime.now(timezone.utc).date()
    intake = channels(snap)
    newest = intake["last_report_day"].max() if intake.height else None
    arrival = intake["last_arrival"].max() if intake.height else None
    allowed = DELIVERY_DAYS + usual_gap(snap)
    behind = (today - newest).days if newest else 0
    return Verdict(newest is not None and behind > allowed, newest, behind, allowed, arrival)


def overdue(frame: pl.DataFrame, today: date | None = None) -> pl.DataFrame:
    """Add days_behind and overdue: no report for longer than its usual gap plus the delivery delay."""
    today = today or datetime.now(timezone.utc).date()
    behind = (pl.lit(today) - pl.col("last_report_day")).dt.total_days()
    return frame.with_columns(behind.alias("days_behind"),
                              (behind > pl.col("usual_gap_days").ceil() + DELIVERY_DAYS).alias("overdue"))


def quiet_channels(frame: pl.DataFrame, allowed_days: int, now: datetime | None = None) -> pl.DataFrame:
    """Add days_since_arrival and overdue to `channels()`: a channel that brought nothing for longer
    than the data may lag (a mailbox that stopped while files still come in)."""
    now = now or datetime.now(timezone.utc)
    since = (pl.lit(now).dt.convert_time_zone("UTC") - pl.col("last_arrival").dt.convert_time_zone("UTC")).dt.total_days()
    return frame.with_columns(since.alias("days_since_arrival"), (since > allowed_days).alias("overdue"))
