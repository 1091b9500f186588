-- grain: one row per report_date, policy_domain, policy_type, sts_mode
-- incremental: report_date, lookback 0 days
-- reads: staging.policies
-- Each policy type as stated: Microsoft's sts and tlsa rows describe the same sessions, so never
-- add policy types up; the counted-once total per day and domain is marts.daily_domain_sessions
-- (rule in intermediate.sessions_once_per_report: per report and domain, the policy with the most
-- sessions).
with policies as (
    select * from staging.policies
),

per_day as (
    select
        report_date,
        policy_domain,
        policy_type,
        sts_mode,
        sum(successful_session_count)::bigint as successful_session_count,
        sum(failed_session_count)::bigint as failed_session_count,
        sum(successful_session_count + failed_session_count)::bigint as total_session_count,
        count(distinct reporter) as reporter_count,
        count(distinct report_key) as report_count
    from policies
    group by report_date, policy_domain, policy_type, sts_mode
),

rated as (
    select
        *,
        -- Rates come from the stated summary counts (failure types are not exclusive, so the
        -- details can add up to more than the sessions that failed).
        case when total_session_count > 0 then successful_session_count / total_session_count end as success_rate
    from per_day
)

select * from rated
