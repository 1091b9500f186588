-- grain: one row per report_date, policy_domain, result_type
-- incremental: report_date, lookback 0 days
-- reads: intermediate.failures_once_per_report, marts.daily_domain_sessions
-- Failed sessions counted once per report (intermediate.failures_once_per_report), with the
-- failures a summary counts but no detail names as result type '(no details given)'.
with details as (
    select * from intermediate.failures_once_per_report
),

sessions as (
    select
        report_date,
        policy_domain,
        total_session_count
    from marts.daily_domain_sessions
),

per_result as (
    select
        report_date,
        policy_domain,
        result_type,
        min(result_group) as result_group,
        sum(failed_session_count)::bigint as failed_session_count,
        count(distinct reporter) as reporter_count
    from details
    group by report_date, policy_domain, result_type
)

select
    f.*,
    f.failed_session_count / nullif(sum(f.failed_session_count) over (
        partition by f.report_date, f.policy_domain
    ), 0) as share_of_day_failures,
    -- Against the sessions counted once; can exceed 1 when senders list one failed session
    -- under several result types, or when the summary undercounts (both seen in real reports).
    f.failed_session_count / nullif(s.total_session_count, 0) as share_of_sessions
from per_result as f
left join sessions as s on f.report_date = s.report_date and f.policy_domain = s.policy_domain
