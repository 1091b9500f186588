-- grain: one row per source_level, report_date, policy_domain, reporter, trust, sending IP, receiving MX and IP
-- incremental: report_date, lookback 0 days
-- reads: marts.sources_by_reporter_daily, marts.sources_by_host_daily
-- The reporter's usual name is in marts.reporter_health (all-time), not here: each day's rows
-- rest on that day's alone.
with by_reporter as (
    select * from marts.sources_by_reporter_daily
),

by_host as (
    select * from marts.sources_by_host_daily
),

reporter_level as (
    -- Per sending source, top level: sessions counted once per report (marts.sources_by_reporter_daily);
    -- '*' marks the rolled-up columns.
    select
        'reporter' as source_level,
        report_date,
        policy_domain,
        reporter,
        trust,
        '*' as sending_mta_ip,
        '*' as sending_mta_network,
        '*' as receiving_mx_hostname,
        '*' as receiving_ip,
        successful_session_count,
        failed_session_count,
        total_session_count,
        top_result_types
    from by_reporter
),

host_level as (
    -- Expanded to the hosts: reports name addresses only for failures, so sessions stay null;
    -- failures counted once per report, as in marts.sources_by_host_daily.
    select
        'host' as source_level,
        h.report_date,
        h.policy_domain,
        h.reporter,
        h.trust,
        h.sending_mta_ip,
        min(h.sending_mta_network) as sending_mta_network,
        h.receiving_mx_hostname,
        h.receiving_ip,
        null::bigint as successful_session_count,
        sum(h.failed_session_count)::bigint as failed_session_count,
        null::bigint as total_session_count,
        list(h.result_type order by h.failed_session_count desc, h.result_type asc)[1:3] as top_result_types
    from by_host as h
    -- every host row has its reporter-level row; the join keeps the two levels to the same sources
    inner join by_reporter as r
        on
            h.report_date = r.report_date and h.policy_domain = r.policy_domain
            and h.reporter = r.reporter and h.trust = r.trust
    group by
        h.report_date, h.policy_domain, h.reporter, h.trust,
        h.sending_mta_ip, h.receiving_mx_hostname, h.receiving_ip
)

select * from reporter_level
union all
select * from host_level
