-- grain: one row per policy_domain and MX host serving it (named in its policies' mx-host, or where its failures went)
-- reads: staging.policies, intermediate.failure_causes
with named as (
    select
        policy_domain,
        unnest(mx_host) as mx_entry
    from staging.policies
),

served as (
    select
        policy_domain,
        lower(rtrim(mx_entry, '.')) as mx_name
    from named
    union
    select
        policy_domain,
        mx_host as mx_name
    from intermediate.failure_causes
    where mx_host is not null
)

select
    policy_domain,
    mx_name
from served
