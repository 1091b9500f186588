-- grain: one row per policy_domain and MX host serving it (named in its policies' mx-host, or where its failures went)
-- incremental: first_day, lookback all
-- reads: staging.policies, intermediate.failure_causes
-- With the first day each MX was known, so detect.mx_failures_daily counts a domain's MX hosts as
-- of each day. A report changes only the MX hosts first known on or after its day.
with named_lists as (
    -- Each distinct list once: every report of a domain repeats it, and trimming and lowering
    -- every entry of all time cost most of the model (0.26 s of 0.39 s CPU at 1M reports).
    select
        policy_domain,
        mx_host,
        min(report_date) as first_day
    from staging.policies
    group by policy_domain, mx_host
),

served as (
    select
        policy_domain,
        lower(rtrim(unnest(mx_host), '.')) as mx_name,
        first_day
    from named_lists
    union all
    select
        policy_domain,
        mx_host as mx_name,
        report_date as first_day
    from intermediate.failure_causes
    where mx_host is not null
)

select
    policy_domain,
    mx_name,
    min(first_day) as first_day
from served
group by policy_domain, mx_name
