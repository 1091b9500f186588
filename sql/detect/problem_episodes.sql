-- grain: one row per kind, subject, cause and episode: the signals a person acts on as one problem
-- reads: detect.problem_signals, config.thresholds
-- The one episode rule: a recurrence within resolve_after_days continues the problem; a later
-- one is a new problem.
with t as (
    select * from config.thresholds
),

gaps as (
    select
        *,
        date_diff(
            'day', lag(report_date) over (partition by kind, subject, cause order by report_date), report_date
        ) as gap
    from detect.problem_signals
),

numbered as (
    select
        g.*,
        sum(case when g.gap is null or g.gap > t.resolve_after_days then 1 else 0 end) over (
            partition by g.kind, g.subject, g.cause order by g.report_date
        ) as episode
    from gaps as g
    cross join t
)

select
    kind,
    subject,
    cause,
    episode,
    min(report_date) as first_seen,
    max(last_day) as last_seen,
    min(detected_on) as detected_on,
    -- What the problem's identity rests on: the day that became visible first (a late report
    -- arrives after it, so it cannot move this day); days without an arrival (silences) last,
    -- and the earliest day on a tie (one ingest of everything: identity_day = first_seen).
    first(report_date order by visible_at asc nulls last, report_date asc) as identity_day,
    sum(anomaly_count)::integer as anomaly_count,
    -- In day order, a day's ids on a tie: the pairs sorted as one list, not an ordered aggregate
    -- (DuckDB sorts each group of one of those apart: ~0.05 s CPU of this model's ~0.23 s at 1M).
    flatten(list_transform(list_sort(list((report_date, anomaly_ids))), x -> x[2])) as anomaly_ids,
    list_sort(list_distinct(flatten(list(policy_domains)))) as policy_domains,
    list_sort(list_distinct(flatten(list(reporters)))) as anomaly_reporters,
    sum(failed_sessions)::bigint as sessions_affected,
    max(failure_rate) as peak_failure_rate,
    bool_or(still_silent) as still_silent
from numbered
group by kind, subject, cause, episode
