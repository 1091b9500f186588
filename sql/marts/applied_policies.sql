-- grain: one row per policy_domain, reporter, policy_type, policy_fingerprint (a policy as applied)
-- reads: staging.policies
with written as materialized (
    -- All time, so the policies are grouped as written first and hashed after (far fewer ways a
    -- policy is written than policy rows), each with the fields of the first report that wrote it.
    -- Materialized: else DuckDB's plan reads every policy twice (once more for the newest version
    -- per reporter, a window it turns into a join), 0.2 s of a new day's build at 1M reports.
    select
        policy_domain,
        reporter,
        policy_type,
        policy_strings,
        first(
            {
                'sts_mode': nullif(sts_mode, '-'),
                'sts_max_age': sts_max_age,
                'sts_mx': sts_mx,
                'tlsa_records': tlsa_records
            } order by report_date, report_key
        ) as first_written,
        first(report_key order by report_date, report_key) as first_key,
        min(report_date) as first_day,
        max(report_date) as last_day,
        count(*) as policy_count
    from staging.policies
    group by policy_domain, reporter, policy_type, policy_strings
),

applied as (
    select
        *,
        -- The policy text a sender says it applied, order-insensitive: the same policy written in
        -- another line order (Stalwart puts max_age before mx) is the same policy.
        md5(array_to_string(list_sort(policy_strings), chr(10))) as policy_fingerprint
    from written
),

versions as (
    select
        policy_domain,
        reporter,
        policy_type,
        policy_fingerprint,
        -- As the first report that applied it wrote it (the same policy, maybe in another order).
        first(first_written order by first_day, first_key) as first_policy,
        first(policy_strings order by first_day, first_key) as policy_strings,
        min(first_day) as first_day,
        max(last_day) as last_day,
        sum(policy_count) as policy_count
    from applied
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
        v.policy_strings,
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
