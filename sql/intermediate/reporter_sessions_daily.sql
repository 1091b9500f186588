-- grain: one row per report_date, policy_domain, reporter, trust (sessions counted once per report)
-- incremental: report_date, lookback 0 days
-- reads: intermediate.sessions_once_per_report, intermediate.failures_once_per_report
-- marts.sources_by_reporter_daily without the reporter's usual name: that name is all-time
-- (marts.reporter_health), so a model holding it is rebuilt in full; what reads only the day's
-- sessions (the reporter detection) reads this one and stays incremental.
with per_reporter as (
    select
        report_date,
        policy_domain,
        reporter,
        -- How far the sender is established (DKIM): the dashboard can show verified reports only.
        trust,
        sum(successful_session_count)::bigint as successful_session_count,
        sum(failed_session_count)::bigint as failed_session_count,
        sum(successful_session_count + failed_session_count)::bigint as total_session_count,
        count(*) as report_count
    from intermediate.sessions_once_per_report
    group by report_date, policy_domain, reporter, trust
),

failed_by_result as (
    select
        report_date,
        policy_domain,
        reporter,
        trust,
        result_type,
        sum(failed_session_count) as failed
    from intermediate.failures_once_per_report
    group by report_date, policy_domain, reporter, trust, result_type
),

top_results as (
    select
        report_date,
        policy_domain,
        reporter,
        trust,
        list(result_type order by failed desc, result_type asc)[1:3] as top_result_types
    from failed_by_result
    group by report_date, policy_domain, reporter, trust
)

select
    p.*,
    coalesce(t.top_result_types, []) as top_result_types,
    case when p.total_session_count > 0 then p.successful_session_count / p.total_session_count end as success_rate
from per_reporter as p
left join top_results as t
    on
        p.report_date = t.report_date and p.policy_domain = t.policy_domain
        and p.reporter = t.reporter and p.trust = t.trust
