-- grain: one row per report_date, policy_domain, reporter, trust, report_key: sessions counted once
-- incremental: report_date, lookback 0 days
-- reads: staging.policies
-- The counting rule (docs/marts.md): a report that lists the same sessions under several
-- policies for one domain (Microsoft: an sts and a tlsa policy) counts them once, as the largest
-- total and the largest failure count across those policies, never their sum.
with policies as (
    select * from staging.policies
),

once_per_report as (
    select
        report_date,
        policy_domain,
        reporter,
        trust,
        report_key,
        -- The largest total holds the largest failure count, so the rest is never negative.
        (max(successful_session_count + failed_session_count) - max(failed_session_count))::bigint
            as successful_session_count,
        max(failed_session_count)::bigint as failed_session_count
    from policies
    group by report_date, policy_domain, reporter, trust, report_key
)

select * from once_per_report
