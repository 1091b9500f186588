-- grain: one row per report and policy (main.policies), with its day and reporter
-- incremental: report_date, lookback 0 days
-- reads: main.policies, staging.reports, config.policy_types
with policies as (
    select * from main.policies
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

labelled as (
    select
        p.report_key,
        p.policy_index,
        p.report_date,
        r.reporter,
        r.trust,
        -- Unknown domains and types stay visible as their own bucket instead of vanishing.
        coalesce(p.policy_domain, '(unknown)') as policy_domain,
        coalesce(p.policy_type, '(missing)') as policy_type,
        -- The RFC's policy types (pipeline/vocabulary.py) are their own group; anything else is other.
        coalesce(t.policy_type, 'other') as policy_type_group,
        coalesce(p.sts_mode, '-') as sts_mode,
        p.sts_max_age,
        p.sts_mx,
        p.mx_host,
        p.tlsa_records,
        p.policy_strings,
        coalesce(p.successful_session_count, 0) as successful_session_count,
        coalesce(p.failed_session_count, 0) as failed_session_count,
        p.failure_detail_session_sum,
        p.has_totals_mismatch
    from policies as p
    -- only the rows of the copy staging.reports keeps (a report two writers loaded at once); by
    -- its date too (a report's rows share it), so a build's date filter reaches that scan
    inner join reports as r on p.report_key = r.report_key and p.batch_id = r.batch_id and p.report_date = r.report_date
    left join config.policy_types as t on p.policy_type = t.policy_type
)

select * from labelled
