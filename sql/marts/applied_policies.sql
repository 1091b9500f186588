-- grain: one row per policy_domain, reporter, policy_type, policy_fingerprint (a policy as applied)
-- reads: staging.policies, intermediate.policy_first_sightings
with versions as (
    -- All time, grouped by the fingerprint staging.policies computed as each report loaded (a
    -- short text: grouping every policy's list of lines cost ~0.25 s more CPU at 1M reports).
    -- Keys and dates only; the fields and lines come from the first sighting, built per day.
    select
        policy_domain,
        reporter,
        policy_type,
        policy_fingerprint,
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
        s.sts_mode,
        s.sts_max_age,
        s.sts_mx,
        s.tlsa_records,
        s.policy_strings,
        v.first_day,
        v.last_day,
        v.policy_count::bigint as policy_count,
        -- Newest version this reporter applied for the domain and type; an older one still in use
        -- by other reporters after it is a stale cache to look at (the anomaly issue alerts on it).
        v.last_day = max(v.last_day) over (partition by v.policy_domain, v.reporter, v.policy_type)
            as is_latest_for_reporter
    from versions as v
    inner join intermediate.policy_first_sightings as s
        on
            v.policy_domain = s.policy_domain
            and v.reporter = s.reporter
            and v.policy_type = s.policy_type
            and v.policy_fingerprint = s.policy_fingerprint
)

select * from flagged
