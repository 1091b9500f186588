"""detect.reporter_cadence, built from its incremental parts (report days, each day's gap, the
cadence learnt by each day, the gaps keyed by their end), equals the same figures taken by window
functions over each pair's whole history: the definition, kept here as the reference. The days
include pauses longer than the week the gaps are first looked up in and longer than the learning
window (a window's first day then reaches back before it for its gap)."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from pipeline.detect.detection_config import DEFAULTS
from pipeline.store.warehouse import ensure_schema
from pipeline.transform.sql_models import build_order, load_models, write_config

REFERENCE = """
with t as (select * from config.thresholds),
report_days as (select distinct reporter, policy_domain, report_date from intermediate.sessions_once_per_report),
data_end as (select max(report_date) as data_through from report_days),
with_next as (
    select reporter, policy_domain, report_date as last_report_day,
        lead(report_date) over w as next_report_day,
        date_diff('day', lag(report_date) over w, report_date) as gap_before,
        date_diff('day', date '2000-01-01', report_date) as day_number
    from report_days window w as (partition by reporter, policy_domain order by report_date)),
learned as (
    select w.*, e.data_through, t.*,
        count(*) over l as learning_report_days, max(w.gap_before) over l as usual_max_gap,
        (count(*) over l + 1) / (w.day_number - min(w.day_number) over l + 3) as report_day_share
    from with_next as w cross join t cross join data_end as e
    window l as (partition by w.reporter, w.policy_domain order by w.day_number
                 range between t.silence_learning_days preceding and current row)),
allowed as (
    select *,
        case when learning_report_days > silence_learning_days then 1
             else greatest(coalesce(usual_max_gap, 1),
                           case when report_day_share < 1 then ceil(ln(silence_chance) / ln(1 - report_day_share)) else 0 end)
        end::integer + silence_late_grace_days as allowed_gap_days,
        date_diff('day', last_report_day, coalesce(next_report_day, data_through + 1)) as gap_days
    from learned)
select reporter, policy_domain, last_report_day, next_report_day, coalesce(next_report_day, date '9999-12-31') as gap_end,
    case when next_report_day is null then data_through end as data_through, learning_report_days, usual_max_gap,
    report_day_share, allowed_gap_days, gap_days,
    learning_report_days >= silence_min_report_days and gap_days > allowed_gap_days as is_silent,
    last_report_day + allowed_gap_days as silent_detectable_on
from allowed
"""


def _days(start: date, *runs: tuple[int, int]) -> list[date]:
    """Report days from `start`: each run is (days reporting every day, days of pause after)."""
    out, day = [], start
    for reporting, pause in runs:
        out += [day + timedelta(days=i) for i in range(reporting)]
        day += timedelta(days=reporting + pause)
    return out


def test_cadence_from_its_incremental_parts_equals_the_windows_over_all_history():
    start = date(2026, 1, 1)
    pairs = {
        # daily, a 10-day pause (past the week looked up first), daily, a 70-day pause (longer
        # than the 60-day learning window), daily again until the data's end
        ("google.com", "example.com"): _days(start, (15, 10), (5, 70), (20, 0)),
        # traffic days only: every second or third day
        ("microsoft.com", "example.com"): [start + timedelta(days=d) for d in range(0, 120) if d % 5 in (0, 2)],
        ("microsoft.com", "other.example"): [start + timedelta(days=40)],  # one report: an open gap only
    }
    con = duckdb.connect()
    ensure_schema(con)
    write_config(con, DEFAULTS, today=date(2026, 6, 1))
    for schema in ("intermediate", "detect"):
        con.execute(f"create schema {schema}")
    rows = [(day, domain, reporter) for (reporter, domain), days in pairs.items() for day in days]
    con.execute("create table intermediate.sessions_once_per_report as select unnest($1::date[]) as report_date,"
                " unnest($2::varchar[]) as policy_domain, unnest($3::varchar[]) as reporter",
                [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]])
    models = load_models()
    chain = ("intermediate.reporter_report_days", "detect.reporter_day_gaps", "detect.reporter_learning",
             "detect.reporter_gaps", "detect.reporter_cadence")
    for key in (k for k in build_order(models) if k in chain):
        con.execute(f"create table {key} as {models[key].sql}")
    built = con.execute("select * from detect.reporter_cadence order by all").fetchall()
    expected = con.execute(f"select * from ({REFERENCE}) order by all").fetchall()
    assert built == expected
    assert len(built) == sum(len(days) for days in pairs.values())
    # The long pauses are there: a gap past the week, and one longer than the learning window,
    # which the first days after it carry as their usual longest gap.
    gaps = {(r[2], r[3]) for r in built if r[0] == "google.com"}
    assert (date(2026, 1, 15), date(2026, 1, 26)) in gaps
    assert any(r[7] == 71 for r in built if r[0] == "google.com")
