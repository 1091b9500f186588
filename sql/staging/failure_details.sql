-- grain: one row per failure detail (main.failure_details), with its result group and reporter
-- incremental: report_date, lookback 0 days
-- reads: main.failure_details, staging.reports, config.result_types
with details as (
    select * from main.failure_details
),

reports as (
    select
        report_key,
        batch_id,
        reporter,
        report_date,
        trust
    from staging.reports
),

grouped as (
    select
        d.report_key,
        d.policy_index,
        d.detail_index,
        d.report_date,
        r.reporter,
        r.trust,
        coalesce(d.policy_domain, '(unknown)') as policy_domain,
        coalesce(d.result_type, '(missing)') as result_type,
        -- RFC 8460 section 4.3 groups the registry into MTA-STS, DANE and negotiation results
        -- (pipeline/vocabulary.py); anything else a sender invents is kept verbatim, as unknown.
        coalesce(t.result_group, 'unknown') as result_group,
        coalesce(d.failed_session_count, 0) as failed_session_count,
        d.sending_mta_ip,
        d.sending_mta_network,
        d.receiving_mx_hostname,
        d.receiving_ip,
        d.failure_reason_code
    from details as d
    -- only the rows of the copy staging.reports keeps (a report two writers loaded at once); by
    -- its date too (a report's rows share it), so a build's date filter reaches that scan
    inner join reports as r on d.report_key = r.report_key and d.batch_id = r.batch_id and d.report_date = r.report_date
    left join config.result_types as t on d.result_type = t.result_type
)

select * from grouped
