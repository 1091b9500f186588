-- grain: one row per day, policy domain, reporter, trust, sending IP, receiving MX and IP, result type
-- incremental: report_date, lookback 0 days
-- reads: intermediate.failures_once_per_report
-- Failed sessions counted once per report (intermediate.failures_once_per_report): a failure
-- listed under a report's sts and tlsa policies once; a summary's failures no detail names as
-- result type '(no details given)' with unknown addresses.
with details as (
    select * from intermediate.failures_once_per_report
),

per_host as (
    -- Unknown addresses (absent, "" or not an IP) stay as their own row, never dropped.
    select
        report_date,
        policy_domain,
        reporter,
        trust,
        coalesce(sending_mta_ip, '(unknown)') as sending_mta_ip,
        coalesce(receiving_mx_hostname, '(unknown)') as receiving_mx_hostname,
        coalesce(receiving_ip, '(unknown)') as receiving_ip,
        result_type,
        -- Functions of the key (the network of the IP, the group of the type): one value each.
        min(coalesce(sending_mta_network, '(unknown)')) as sending_mta_network,
        min(result_group) as result_group,
        sum(failed_session_count)::bigint as failed_session_count,
        list_sort(list(distinct failure_reason_code) filter (
            where failure_reason_code is not null
        )) as failure_reason_codes
    from details
    group by
        report_date, policy_domain, reporter, trust, sending_mta_ip, receiving_mx_hostname, receiving_ip, result_type
)

select
    report_date,
    policy_domain,
    reporter,
    trust,
    sending_mta_ip,
    sending_mta_network,
    receiving_mx_hostname,
    receiving_ip,
    result_type,
    result_group,
    failed_session_count,
    failure_reason_codes
from per_host
