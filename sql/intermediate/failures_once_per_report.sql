-- grain: one row per report, policy domain and failure (type, sending IP, MX, receiving IP, reason), counted once
-- incremental: report_date, lookback 0 days
-- reads: staging.failure_details, intermediate.sessions_once_per_report
-- The counting rule of intermediate.sessions_once_per_report, for failure details: a failure a
-- report lists under several policies of one domain counts once (the largest count across those
-- policies); failures its summary counts but no detail names are one '(no details given)' row,
-- so every breakdown adds up to at least the failed sessions the overview shows.
with per_policy as (
    -- A policy may list one failure in several details: those add up.
    select
        report_key,
        policy_domain,
        policy_index,
        report_date,
        reporter,
        trust,
        result_type,
        result_group,
        sending_mta_ip,
        sending_mta_network,
        receiving_mx_hostname,
        receiving_ip,
        failure_reason_code,
        sum(failed_session_count) as failed_session_count
    from staging.failure_details
    group by all
),

detailed as (
    -- Across the report's policies for the domain: the largest count, never the sum.
    select
        * exclude (policy_index, failed_session_count),
        max(failed_session_count)::bigint as failed_session_count,
        true as is_detailed
    from per_policy
    group by all
),

detailed_per_report as (
    -- With the report's date (one per report), so a build's date filter reaches this step too.
    select
        report_key,
        policy_domain,
        report_date,
        sum(failed_session_count) as failed_session_count
    from detailed
    group by report_key, policy_domain, report_date
),

undetailed as (
    select
        s.report_key,
        s.policy_domain,
        s.report_date,
        s.reporter,
        s.trust,
        '(no details given)' as result_type,
        'none' as result_group,
        null::varchar as sending_mta_ip,
        null::varchar as sending_mta_network,
        null::varchar as receiving_mx_hostname,
        null::varchar as receiving_ip,
        null::varchar as failure_reason_code,
        (s.failed_session_count - coalesce(d.failed_session_count, 0))::bigint as failed_session_count,
        false as is_detailed
    from intermediate.sessions_once_per_report as s
    left join detailed_per_report as d
        on s.report_key = d.report_key and s.policy_domain = d.policy_domain and s.report_date = d.report_date
    where s.failed_session_count > coalesce(d.failed_session_count, 0)
)

-- Matched by name; sqlfluff cannot expand `* exclude` to count the columns.
select * from detailed  -- noqa: AM07
union all by name
select * from undetailed
