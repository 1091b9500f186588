-- grain: one row per report_date, policy_domain, reporter, trust, report_key: sessions counted once
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
        reporter,
        trust,
        report_key,
        arg_max(successful_session_count, successful_session_count + failed_session_count) as successful_session_count,
        arg_max(failed_session_count, successful_session_count + failed_session_count) as failed_session_count
    from policies
    group by report_date, policy_domain, reporter, trust, report_key
)

select * from once_per_report
