-- grain: one row per policy_domain, reporter, policy_type, policy_fingerprint (a policy as applied)
-- reads: staging.policies
with versions as (
    -- All time, grouped by the fingerprint staging.policies computed as each report loaded (a
    -- short text: grouping every policy's list of lines cost ~0.25 s more CPU at 1M reports).
    -- The fields and lines as the first report that applied it wrote them (the same policy, maybe
    -- in another line order); arg_min, not an ordered first(): no sort per group.
    select
        policy_domain,
        reporter,
        policy_type,
        policy_fingerprint,
        arg_min(
            {
                'sts_mode': nullif(sts_mode, '-'),
                'sts_max_age': sts_max_age,
                'sts_mx': sts_mx,
                'tlsa_records': tlsa_records,
                'policy_strings': policy_strings
            },
            (report_date, report_key, policy_index)
        ) as first_policy,
        min(report_date) as first_day,
        max(report_date) as last_day,
        count(*) as policy_count
    from staging.policies
    group by policy_domain, reporter, policy_type, policy_fingerprint
),

flagged as (
    select
        v.policy_domain,
        v.reporter,
        v.policy_type,
        v.policy_fingerprint,
        v.first_policy.sts_mode,
        v.first_policy.sts_max_age,
        v.first_policy.sts_mx,
        v.first_policy.tlsa_records,
        v.first_policy.policy_strings,
        v.first_day,
        v.last_day,
        v.policy_count::bigint as policy_count,
        -- Newest version this reporter applied for the domain and type; an older one still in use
        -- by other reporters after it is a stale cache to look at (the anomaly issue alerts on it).
        v.last_day = max(v.last_day) over (partition by v.policy_domain, v.reporter, v.policy_type)
            as is_latest_for_reporter
    from versions as v
)

select * from flagged
