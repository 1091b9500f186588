-- grain: one row per report_date, policy_domain: sessions counted once across policy types
-- incremental: report_date, lookback 0 days
-- reads: intermediate.sessions_once_per_report
with once_per_report as (
    select * from intermediate.sessions_once_per_report
),

per_day as (
    select
        report_date,
        policy_domain,
        sum(successful_session_count)::bigint as successful_session_count,
        sum(failed_session_count)::bigint as failed_session_count,
        sum(successful_session_count + failed_session_count)::bigint as total_session_count,
        count(*) as report_count
    from once_per_report
    group by report_date, policy_domain
)

select
    *,
    case when total_session_count > 0 then successful_session_count / total_session_count end as success_rate
from per_day
