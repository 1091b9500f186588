-- grain: one row per report_date, policy_domain, result_type
-- reads: staging.failure_details, marts.daily_domain_sessions
-- failed_session_count sums every detail (reconciles with failure_details);
-- failed_session_count_once counts a report's sessions once across its policy types.
with details as (
    select * from staging.failure_details
),

sessions as (
    select
        report_date,
        policy_domain,
        total_session_count
    from marts.daily_domain_sessions
),

per_policy as (
    select
        report_date,
        policy_domain,
        result_type,
        result_group,
        report_key,
        reporter,
        policy_index,
        sum(failed_session_count)::bigint as failed_session_count
    from details
    group by report_date, policy_domain, result_type, result_group, report_key, reporter, policy_index
),

per_report as (
    -- The same failed sessions listed under a report's sts and tlsa policies count once
    -- (max over its policies); the plain sum is kept too, to reconcile with failure_details.
    select
        report_date,
        policy_domain,
        result_type,
        result_group,
        reporter,
        sum(failed_session_count)::bigint as failed_session_count,
        max(failed_session_count) as failed_session_count_once
    from per_policy
    group by report_date, policy_domain, result_type, result_group, report_key, reporter
),

per_result as (
    select
        report_date,
        policy_domain,
        result_type,
        any_value(result_group) as result_group,
        sum(failed_session_count)::bigint as failed_session_count,
        sum(failed_session_count_once)::bigint as failed_session_count_once,
        count(distinct reporter) as reporter_count
    from per_report
    group by report_date, policy_domain, result_type
),

shared as (
    select
        f.*,
        f.failed_session_count_once / nullif(sum(f.failed_session_count_once) over (
            partition by f.report_date, f.policy_domain
        ), 0) as share_of_day_failures,
        -- Against the sessions counted once; can exceed 1 when senders list one failed session
        -- under several result types, or when the summary undercounts (both seen in real reports).
        f.failed_session_count_once / nullif(s.total_session_count, 0) as share_of_sessions
    from per_result as f
    left join sessions as s on f.report_date = s.report_date and f.policy_domain = s.policy_domain
)

select * from shared
