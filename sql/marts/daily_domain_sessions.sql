-- grain: one row per report_date, policy_domain: sessions counted once across policy types
-- reads: staging.policies
with policies as (
    select * from staging.policies
),

once_per_report as (
    -- Microsoft reports the same sessions under an sts and a tlsa policy for one domain
    -- (DOMAIN.md 8.1): per report and domain keep the policy with the most sessions, never the sum.
    select
        report_date,
        policy_domain,
        report_key,
        arg_max(successful_session_count, successful_session_count + failed_session_count) as successful_session_count,
        arg_max(failed_session_count, successful_session_count + failed_session_count) as failed_session_count
    from policies
    group by report_date, policy_domain, report_key
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
