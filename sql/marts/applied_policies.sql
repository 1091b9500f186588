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
        report_key,
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
        -- As the first report that applied it wrote it (the same policy, maybe in another order).
        first(sts_mode order by report_date, report_key) as sts_mode,
        first(sts_max_age order by report_date, report_key) as sts_max_age,
        first(sts_mx order by report_date, report_key) as sts_mx,
        first(tlsa_records order by report_date, report_key) as tlsa_records,
        first(policy_strings order by report_date, report_key) as policy_strings,
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
