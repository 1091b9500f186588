-- grain: one row per policy_domain, reporter, policy_type, policy_fingerprint: the policy as first applied
-- incremental: first_day, lookback all
-- reads: staging.policies
-- The texts of marts.applied_policies, kept per first day: a report changes only the versions
-- first seen on or after its day, so a new day groups the fields and lines of its own policies
-- (the build's filter on first_day reaches staging.policies through the join on report_date),
-- not every policy's lists of all time again (0.3 s of each new day at 1M reports).
with first_days as (
    -- Keys and dates only: cheap to group over all time.
    select
        policy_domain,
        reporter,
        policy_type,
        policy_fingerprint,
        min(report_date) as first_day
    from staging.policies
    group by policy_domain, reporter, policy_type, policy_fingerprint
),

first_policies as (
    -- The fields and lines as the first report that applied it wrote them (the same policy, maybe
    -- in another line order); arg_min, not an ordered first(): no sort per group.
    select
        f.policy_domain,
        f.reporter,
        f.policy_type,
        f.policy_fingerprint,
        f.first_day,
        arg_min(
            {
                'sts_mode': nullif(p.sts_mode, '-'),
                'sts_max_age': p.sts_max_age,
                'sts_mx': p.sts_mx,
                'tlsa_records': p.tlsa_records,
                'policy_strings': p.policy_strings
            },
            (p.report_key, p.policy_index)
        ) as first_policy
    from first_days as f
    inner join staging.policies as p
        on
            f.policy_domain = p.policy_domain
            and f.reporter = p.reporter
            and f.policy_type = p.policy_type
            and f.policy_fingerprint = p.policy_fingerprint
            and f.first_day = p.report_date
    group by f.policy_domain, f.reporter, f.policy_type, f.policy_fingerprint, f.first_day
)

select
    s.policy_domain,
    s.reporter,
    s.policy_type,
    s.policy_fingerprint,
    s.first_day,
    s.first_policy.sts_mode,
    s.first_policy.sts_max_age,
    s.first_policy.sts_mx,
    s.first_policy.tlsa_records,
    s.first_policy.policy_strings
from first_policies as s
