-- grain: one row per report_date, policy_domain and receiving MX (host, or IP without host) failing there (zero-filled)
-- reads: detect.mx_failing_days, intermediate.domain_mx, marts.daily_domain_sessions, config.thresholds
-- The days an MX failed (detect.mx_failing_days, built per day) zero-filled over all the domain's
-- days and judged against the domain's MX hosts of all time: both move when an MX first shows up,
-- on any day, so this part is rebuilt in full; it only joins.
with t as (
    select * from config.thresholds
),

failing_days as (
    select * from detect.mx_failing_days
),

failing_mx as (
    select distinct
        policy_domain,
        receiving_mx
    from failing_days
),

known_mx as (
    -- MX hosts a domain is known to have: named in its policies, or seen failing (by host or IP).
    select
        policy_domain,
        count(distinct mx) as known_mx_count
    from (
        select
            policy_domain,
            mx_name as mx
        from intermediate.domain_mx
        union
        select
            policy_domain,
            receiving_mx as mx
        from failing_mx
    ) as named
    group by policy_domain
),

domain_failures as (
    -- The domain's failed sessions of the day on all its MX (a zero-filled day adds none).
    select
        report_date,
        policy_domain,
        sum(failed_sessions) as domain_failed_sessions
    from failing_days
    group by report_date, policy_domain
),

domain_days as (
    -- The domain's days with its failed sessions on all MX, joined before each day is repeated
    -- per failing MX, as the MX count below (the select 0.51 -> 0.41 s CPU at 1M).
    select
        d.report_date,
        d.policy_domain,
        d.total_session_count,
        d.success_rate,
        coalesce(x.domain_failed_sessions, 0) as domain_failed_sessions
    from marts.daily_domain_sessions as d
    left join domain_failures as x on d.report_date = x.report_date and d.policy_domain = x.policy_domain
),

grid as (
    select
        d.report_date,
        d.policy_domain,
        m.receiving_mx,
        k.known_mx_count,
        f.cause,
        coalesce(f.failed_sessions, 0) as failed_sessions,
        d.domain_failed_sessions,
        d.total_session_count,
        coalesce(d.success_rate, 0.0) as domain_success_rate,
        coalesce(f.baseline_failed_sessions, 0) as baseline_failed_sessions,
        coalesce(f.baseline_day_count, 0) as baseline_day_count,
        f.evidence_report_keys
    from domain_days as d
    inner join failing_mx as m on d.policy_domain = m.policy_domain
    -- The MX count joins the 15k failing pairs before the grid, not each of its rows.
    inner join known_mx as k on m.policy_domain = k.policy_domain
    left join failing_days as f
        on d.report_date = f.report_date and d.policy_domain = f.policy_domain and m.receiving_mx = f.receiving_mx
)

select
    g.report_date,
    g.policy_domain,
    g.receiving_mx,
    g.cause,
    g.failed_sessions,
    g.domain_failed_sessions,
    g.total_session_count,
    g.failed_sessions / nullif(g.domain_failed_sessions, 0) as mx_share,
    g.domain_success_rate,
    g.baseline_failed_sessions,
    g.baseline_day_count,
    g.known_mx_count,
    g.evidence_report_keys,
    -- One MX starts failing while the others stay healthy: most of the day's failures are on it,
    -- it was quiet before, and the domain still delivers most sessions through its other MXes.
    g.failed_sessions >= t.min_failed_sessions
    and g.failed_sessions / greatest(g.total_session_count, g.failed_sessions) >= t.min_failure_rate
    and g.failed_sessions / nullif(g.domain_failed_sessions, 0) >= t.mx_concentration
    and g.baseline_failed_sessions < t.min_failed_sessions
    and g.known_mx_count >= 2
    and g.domain_success_rate >= t.min_domain_success_rate as is_failing_alone
from grid as g
cross join t
