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
        -- The policy as a sender applied it, order-insensitive: the same policy written in another
        -- line order (Stalwart puts max_age before mx) is the same policy. Hashed here, once per
        -- report as it loads, so that the all-time marts.applied_policies groups a short text
        -- instead of every policy's list of lines again in each build (~0.25 s CPU at 1M reports).
        md5(array_to_string(list_sort(p.policy_strings), chr(10))) as policy_fingerprint,
        -- The MTA-STS version it applied: what the policy says (mode, max_age, mx lines), not how a
        -- sender wrote it, for detect.policy_versions_daily's all-time first day of each version;
        -- null for any other policy, and for one that lists no mx.
        case
            when p.policy_type = 'sts' and len(p.sts_mx) > 0
                then md5(concat_ws(
                    '|',
                    coalesce(p.sts_mode, '-'),
                    p.sts_max_age,
                    array_to_string(list_sort(list_transform(p.sts_mx, m -> lower(m))), ',')
                ))
        end as policy_version,
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
