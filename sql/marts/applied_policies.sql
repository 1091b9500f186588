-- grain: one row per policy_domain, reporter, policy_type, policy_fingerprint (a policy as applied)
-- reads: staging.policies
with applied as (
    select
        policy_domain,
        reporter,
        policy_type,
        -- The policy text a sender says it applied, order-insensitive: the same policy written in
        -- another line order (Stalwart puts max_age before mx) is the same policy.
        md5(array_to_string(list_sort(policy_strings), chr(10))) as policy_fingerprint,
        report_date,
        nullif(sts_mode, '-') as sts_mode,
        sts_max_age,
        sts_mx,
        tlsa_records,
        policy_strings
    from staging.policies
),

versions as (
    select
        policy_domain,
        reporter,
        policy_type,
        policy_fingerprint,
        any_value(sts_mode) as sts_mode,
        any_value(sts_max_age) as sts_max_age,
        any_value(sts_mx) as sts_mx,
        any_value(tlsa_records) as tlsa_records,
        any_value(policy_strings) as policy_strings,
        min(report_date) as first_day,
        max(report_date) as last_day,
        count(*) as policy_count
    from applied
    group by policy_domain, reporter, policy_type, policy_fingerprint
),

flagged as (
    select
        *,
        -- Newest version this reporter applied for the domain and type; an older one still in use
        -- by other reporters after it is a stale cache to look at (the anomaly issue alerts on it).
        last_day = max(last_day) over (partition by policy_domain, reporter, policy_type) as is_latest_for_reporter
    from versions
)

select * from flagged
