-- grain: one row per report_date, policy_domain, reporter, trust (sources at the reporter level)
-- reads: intermediate.sessions_once_per_report, marts.reporter_health, intermediate.failures_once_per_report
-- Sessions counted once per report (intermediate.sessions_once_per_report); the top result
-- types rank the failures counted once (intermediate.failures_once_per_report).
with once_per_report as (
    select * from intermediate.sessions_once_per_report
),

names as (
    -- The name a reporter uses most (marts.reporter_health), to show beside its normalised key.
    select
        reporter,
        organization_name
    from marts.reporter_health
),

per_reporter as (
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
    from once_per_report
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
    n.organization_name,
    coalesce(t.top_result_types, []) as top_result_types,
    case when p.total_session_count > 0 then p.successful_session_count / p.total_session_count end as success_rate
from per_reporter as p
inner join names as n on p.reporter = n.reporter
left join top_results as t
    on
        p.report_date = t.report_date and p.policy_domain = t.policy_domain
        and p.reporter = t.reporter and p.trust = t.trust
