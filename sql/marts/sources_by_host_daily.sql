-- grain: one row per day, policy domain, reporter, trust, sending IP, receiving MX and IP, result type
-- reads: staging.failure_details
with details as (
    select * from staging.failure_details
),

per_host as (
    -- Unknown addresses (absent, "" or not an IP) stay as their own row, never dropped.
    select
        report_date,
        policy_domain,
        reporter,
        trust,
        coalesce(sending_mta_ip, '(unknown)') as sending_mta_ip,
        coalesce(sending_mta_network, '(unknown)') as sending_mta_network,
        coalesce(receiving_mx_hostname, '(unknown)') as receiving_mx_hostname,
        coalesce(receiving_ip, '(unknown)') as receiving_ip,
        result_type,
        any_value(result_group) as result_group,
        sum(failed_session_count)::bigint as failed_session_count,
        list(distinct failure_reason_code) filter (where failure_reason_code is not null) as failure_reason_codes
    from details
    group by all
)

select * from per_host
