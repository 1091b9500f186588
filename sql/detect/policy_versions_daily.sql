-- grain: one row per report_date, policy_domain, reporter and MTA-STS policy version it applied (its reports listed)
-- incremental: report_date, lookback all
-- reads: staging.policies, config.thresholds
with t as (
    select * from config.thresholds
),

versioned as (
    -- A version is what the policy says (mode, max_age, mx lines), not how a sender wrote it:
    -- senders order and space the lines differently for the same policy (staging.policies).
    select
        report_date,
        policy_domain,
        reporter,
        policy_version,
        sts_mode,
        sts_max_age,
        sts_mx,
        report_key
    from staging.policies
    where policy_version is not null
),

applied as (
    -- One row per day, domain, reporter and version, however many of its reports applied it
    -- (sys4 sends several a day): they are the evidence, not more rows.
    select
        report_date,
        policy_domain,
        reporter,
        policy_version,
        min(sts_mode) as sts_mode,  -- part of the version: one value
        min(sts_max_age) as sts_max_age,
        first(sts_mx order by report_key) as sts_mx,
        list(report_key order by report_key) as report_keys
    from versioned
    group by report_date, policy_domain, reporter, policy_version
),

versions as (
    -- All time: each version's first day, from the version staging.policies computed as each
    -- report loaded (grouping every policy's mx list again cost ~0.1 s of a new day at 1M).
    select
        policy_domain,
        policy_version,
        min(report_date) as version_first_seen
    from staging.policies
    where policy_version is not null
    group by policy_domain, policy_version
),

dated as (
    select
        a.*,
        v.version_first_seen
    from applied as a
    inner join versions as v on a.policy_domain = v.policy_domain and a.policy_version = v.policy_version
),

newer as (
    -- The newest version other senders had applied at least stale_policy_days before this day,
    -- asked of each of the day's rows in the one pass over them: a join back to them (a second
    -- reference) would read the day's policies again.
    select
        d.report_date,
        d.policy_domain,
        d.reporter,
        d.policy_version,
        d.version_first_seen,
        d.sts_mode,
        d.sts_max_age,
        d.sts_mx,
        d.report_keys,
        n.newer_version,
        n.newer_first_seen
    from dated as d
    cross join t
    left join lateral (
        select
            first(v.policy_version order by v.version_first_seen desc, v.policy_version asc) as newer_version,
            max(v.version_first_seen) as newer_first_seen
        from versions as v
        where
            v.policy_domain = d.policy_domain
            and d.version_first_seen < v.version_first_seen
            and v.version_first_seen <= d.report_date - t.stale_policy_days
    ) as n on true
)

select
    n.*,
    n.newer_version is not null as is_stale
from newer as n
