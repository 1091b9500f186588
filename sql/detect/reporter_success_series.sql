-- grain: one row per report_date, policy_domain, reporter: its success rate, and whether the day is judged
-- incremental: report_date, lookback 0 days
-- reads: intermediate.reporter_sessions_daily, config.thresholds
with t as (
    select * from config.thresholds
),

per_reporter as (
    -- Trust levels are one sender's sessions split by how the report arrived: add them up.
    select
        report_date,
        policy_domain,
        reporter,
        sum(successful_session_count)::bigint as successful_sessions,
        sum(failed_session_count)::bigint as failed_sessions,
        sum(total_session_count)::bigint as total_sessions,
        date_diff('day', date '2000-01-01', report_date) as day_number,
        dayofweek(report_date) as week_day
    from intermediate.reporter_sessions_daily
    group by report_date, policy_domain, reporter
),

rated as (
    select
        *,
        case when total_sessions > 0 then successful_sessions / total_sessions else 1.0 end as success_rate
    from per_reporter
)

select
    r.*,
    -- Judged against its baseline only with enough failures to matter: medians over sliding
    -- windows of every reporter day cost most of the detection at a million reports.
    r.failed_sessions >= t.min_failed_sessions and 1 - r.success_rate >= t.min_failure_rate as is_judged
from rated as r
cross join t
