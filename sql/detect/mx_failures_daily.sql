-- grain: one row per report_date, policy_domain and receiving MX (host, or IP without host) failing there (zero-filled)
-- incremental: report_date, lookback all
-- reads: detect.mx_failing_days, intermediate.domain_mx, marts.daily_domain_sessions, config.thresholds
-- The days an MX failed (detect.mx_failing_days, built per day) zero-filled over the domain's days
-- from the MX's first failure on, and judged against the MX hosts the domain was known to have by
-- that day: a day is judged on what was known then, like every other detector, so a new day
-- redoes only itself (the all-time MX set and count rewrote 480k rows a day at 1M reports).
with t as (
    select * from config.thresholds
),

failing_days as (
    select * from detect.mx_failing_days
),

failing_mx as (
    -- Each MX a domain failed on, from the first day it did.
    select
        policy_domain,
        receiving_mx,
        min(report_date) as first_failed
    from failing_days
    group by policy_domain, receiving_mx
),

known_mx as (
    -- MX hosts a domain is known to have: named in its policies, or seen failing (by host or IP),
    -- each from the first day it was.
    select
        policy_domain,
        mx,
        min(known_from) as known_from
    from (
        select
            policy_domain,
            mx_name as mx,
            first_day as known_from
        from intermediate.domain_mx
        union all
        select
            policy_domain,
            receiving_mx as mx,
            first_failed as known_from
        from failing_mx
    ) as named
    group by policy_domain, mx
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

domain_days as not materialized (
    -- The domain's days with its failed sessions on all MX, joined before each day is repeated
    -- per failing MX, as the MX count below (the select 0.51 -> 0.41 s CPU at 1M). Not materialized:
    -- read twice, and each reader takes the build's date filter into its own scan.
    select
        d.report_date,
        d.policy_domain,
        d.total_session_count,
        d.success_rate,
        coalesce(x.domain_failed_sessions, 0) as domain_failed_sessions
    from marts.daily_domain_sessions as d
    left join domain_failures as x on d.report_date = x.report_date and d.policy_domain = x.policy_domain
),

mx_counts as (
    -- The domain's MX hosts known by each of its days with a failing MX (by equality on the day,
    -- so the build's date filter reaches it).
    select
        d.report_date,
        d.policy_domain,
        count(*) as known_mx_count
    from domain_days as d
    inner join known_mx as k on d.policy_domain = k.policy_domain and d.report_date >= k.known_from
    where d.policy_domain in (select m.policy_domain from failing_mx as m)
    group by d.report_date, d.policy_domain
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
    inner join failing_mx as m on d.policy_domain = m.policy_domain and d.report_date >= m.first_failed
    inner join mx_counts as k on d.report_date = k.report_date and d.policy_domain = k.policy_domain
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
