-- grain: one row per domain checked: what it publishes now and how its checks stand
-- reads: posture.latest_checks
with current_checks as (
    select * from posture.latest_checks
    where is_current
),

per_domain as (
    select
        domain,
        max(checked_at) as checked_at,
        any_value(facts ->> '$.policy_id') filter (where check_name = 'sts_txt') as published_policy_id,
        any_value(facts ->> '$.mode') filter (where check_name = 'sts_policy' and verdict in ('ok', 'warn'))
            as published_mode,
        any_value((facts ->> '$.max_age')::bigint) filter (
            where check_name = 'sts_policy' and verdict in ('ok', 'warn')
        ) as published_max_age,
        any_value((facts -> '$.mx')::varchar[]) filter (
            where check_name = 'sts_policy' and verdict in ('ok', 'warn')
        ) as published_mx_patterns,
        any_value((facts -> '$.rua')::varchar[]) filter (where check_name = 'tlsrpt_txt') as tlsrpt_rua,
        any_value((facts -> '$.hosts')::varchar[]) filter (where check_name = 'mx') as mx_hosts,
        min((facts ->> '$.days_to_expiry')::integer) filter (where check_name = 'mx_certificate')
            as min_certificate_days_left,
        count(*) filter (where verdict = 'fail') as fail_count,
        count(*) filter (where verdict = 'warn') as warn_count,
        count(*) filter (where verdict = 'error') as error_count,
        list(check_name || ' ' || target || ': ' || reason order by check_name, target) filter (
            where verdict in ('fail', 'warn')
        ) as findings
    from current_checks
    group by domain
)

select
    *,
    case
        when fail_count > 0 then 'fail'
        when error_count > 0 then 'error'
        when warn_count > 0 then 'warn'
        else 'ok'
    end as verdict
from per_domain
