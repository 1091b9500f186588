-- grain: one row per report_date, policy_domain and result_type the domain failed with that day or before (zero-filled)
-- incremental: report_date, lookback all
-- reads: marts.daily_domain_sessions, intermediate.failure_causes, config.thresholds
-- Failed sessions counted once per report (intermediate.failure_causes holds the detailed
-- failures of intermediate.failures_once_per_report): the failures no detail names have no type
-- to judge.
with t as (
    select * from config.thresholds
),

failed as (
    select
        report_date,
        policy_domain,
        result_type,
        sum(failed_session_count) as failed_sessions
    from intermediate.failure_causes
    group by report_date, policy_domain, result_type
),

seen as (
    -- The types a domain failed with, each zero-filled from its first failure on: a day's rows
    -- then rest on that day and the days before it (a type first seen in a new batch adds no
    -- rows to past days). The baselines count the domain's days before it as zero
    -- (detect.rate_baselines).
    select
        policy_domain,
        result_type,
        min(report_date) as first_failed
    from failed
    group by policy_domain, result_type
),

series as not materialized (
    select
        d.report_date,
        d.policy_domain,
        s.result_type,
        d.total_session_count,
        coalesce(f.failed_sessions, 0) as failed_sessions,
        -- Against the day's sessions counted once; a report whose summary undercounts its details
        -- cannot push the rate over 1.
        case
            when greatest(d.total_session_count, coalesce(f.failed_sessions, 0)) = 0 then 0.0
            else coalesce(f.failed_sessions, 0) / greatest(d.total_session_count, coalesce(f.failed_sessions, 0))
        end as failure_rate,
        date_diff('day', date '2000-01-01', d.report_date) as day_number,
        dayofweek(d.report_date) as week_day
    from marts.daily_domain_sessions as d
    inner join seen as s on d.policy_domain = s.policy_domain and d.report_date >= s.first_failed
    left join failed as f
        on d.report_date = f.report_date and d.policy_domain = f.policy_domain and s.result_type = f.result_type
),

before as (
    -- The type's failed sessions on the domain's earlier days, summed from its failing days alone:
    -- a running sum over the zero-filled series is a window, which a build's date filter cannot
    -- pass, so it computed every day of all history to redo one (0.25-0.38 s against 0.07 s for
    -- a new day at 1M reports; the full build 0.28 -> 0.36 s). An `asof` lookup of a running total
    -- was tried before and made the full build 25 s (sql/README.md).
    select
        s.report_date,
        s.policy_domain,
        s.result_type,
        sum(f.failed_sessions) as failed_before
    from series as s
    inner join failed as f
        on
            s.policy_domain = f.policy_domain
            and s.result_type = f.result_type
            and s.report_date > f.report_date
    group by s.report_date, s.policy_domain, s.result_type
)

select
    s.*,
    -- The minimum-volume guard: a handful of failed sessions is no incident, unless they are
    -- most of a small domain's sessions.
    (s.failed_sessions >= t.min_failed_sessions and s.failure_rate >= t.min_failure_rate)
    or (s.failed_sessions >= t.min_failed_sessions_most_failing and s.failure_rate >= t.most_failing_rate)
        as is_elevated,
    -- Still failing: enough to keep an open incident open (a quiet weekend or a reporter going
    -- silent shrinks the counts, not the fault), never enough to open one. Only these days are
    -- judged against a baseline.
    s.failed_sessions >= 1 and s.failure_rate >= t.min_failure_rate as is_failing,
    coalesce(b.failed_before, 0) as failed_before
from series as s
cross join t
left join before as b
    on s.report_date = b.report_date and s.policy_domain = b.policy_domain and s.result_type = b.result_type
