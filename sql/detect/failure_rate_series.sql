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

series as (
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
    coalesce(sum(s.failed_sessions) over w_history, 0) as failed_before
from series as s
cross join t
window w_history as (
    partition by s.policy_domain, s.result_type order by s.day_number
    rows between unbounded preceding and 1 preceding
)
