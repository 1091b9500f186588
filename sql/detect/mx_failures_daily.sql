-- grain: one row per report_date, policy_domain and receiving MX (host, or IP without host) failing there (zero-filled)
-- reads: intermediate.failure_causes, intermediate.domain_mx, marts.daily_domain_sessions, config.thresholds
with t as (
    select * from config.thresholds
),

causes as (
    select
        *,
        coalesce(mx_host, receiving_ip) as receiving_mx
    from intermediate.failure_causes
    where coalesce(mx_host, receiving_ip) is not null
),

per_mx as (
    -- intermediate.failure_causes counts each failure once per report (Microsoft's sts and tlsa
    -- policies list the same sessions), as the session marts do.
    select
        report_date,
        policy_domain,
        receiving_mx,
        sum(failed_session_count)::bigint as failed_sessions,
        list(distinct report_key order by report_key)[1:20] as evidence_report_keys
    from causes
    group by report_date, policy_domain, receiving_mx
),

cause_sessions as (
    select
        report_date,
        policy_domain,
        receiving_mx,
        cause,
        sum(failed_session_count) as failed
    from causes
    group by report_date, policy_domain, receiving_mx, cause
),

mx_causes as (
    select
        report_date,
        policy_domain,
        receiving_mx,
        -- The cause with the most failed sessions; on a tie the first by name, never a coin toss.
        first(cause order by failed desc, cause asc) as cause
    from cause_sessions
    group by report_date, policy_domain, receiving_mx
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
        from per_mx
    ) as named
    group by policy_domain
),

domain_days as (
    select
        report_date,
        policy_domain,
        total_session_count,
        success_rate
    from marts.daily_domain_sessions
),

failing_mx as (
    select distinct
        policy_domain,
        receiving_mx
    from per_mx
),

grid as (
    select
        d.report_date,
        d.policy_domain,
        m.receiving_mx,
        d.total_session_count,
        coalesce(d.success_rate, 0.0) as domain_success_rate,
        coalesce(p.failed_sessions, 0) as failed_sessions,
        p.evidence_report_keys,
        date_diff('day', date '2000-01-01', d.report_date) as day_number
    from domain_days as d
    inner join failing_mx as m on d.policy_domain = m.policy_domain
    left join per_mx as p
        on d.report_date = p.report_date and d.policy_domain = p.policy_domain and m.receiving_mx = p.receiving_mx
),

baselines as (
    -- The MX's previous baseline_days days, only for days it fails enough to be judged (a
    -- sliding median over every MX day costs most of this model at a million reports).
    select
        c.policy_domain,
        c.receiving_mx,
        c.day_number,
        median(h.failed_sessions) as baseline_failed_sessions,
        count(*) as baseline_day_count
    from grid as c
    cross join t
    inner join grid as h
        on
            c.policy_domain = h.policy_domain and c.receiving_mx = h.receiving_mx
            and h.day_number between c.day_number - t.baseline_days and c.day_number - 1
    where c.failed_sessions >= t.min_failed_sessions
    group by c.policy_domain, c.receiving_mx, c.day_number
),

shares as (
    select
        g.*,
        k.known_mx_count,
        t.*,
        sum(g.failed_sessions) over (partition by g.policy_domain, g.report_date) as domain_failed_sessions,
        g.failed_sessions / nullif(sum(g.failed_sessions) over (partition by g.policy_domain, g.report_date), 0)
            as mx_share,
        coalesce(b.baseline_failed_sessions, 0) as baseline_failed_sessions,
        coalesce(b.baseline_day_count, 0) as baseline_day_count
    from grid as g
    cross join t
    inner join known_mx as k on g.policy_domain = k.policy_domain
    left join baselines as b
        on g.policy_domain = b.policy_domain and g.receiving_mx = b.receiving_mx and g.day_number = b.day_number
)

select
    s.report_date,
    s.policy_domain,
    s.receiving_mx,
    c.cause,
    s.failed_sessions,
    s.domain_failed_sessions,
    s.total_session_count,
    s.mx_share,
    s.domain_success_rate,
    s.baseline_failed_sessions,
    s.baseline_day_count,
    s.known_mx_count,
    s.evidence_report_keys,
    -- One MX starts failing while the others stay healthy: most of the day's failures are on it,
    -- it was quiet before, and the domain still delivers most sessions through its other MXes.
    s.failed_sessions >= s.min_failed_sessions
    and s.failed_sessions / greatest(s.total_session_count, s.failed_sessions) >= s.min_failure_rate
    and s.mx_share >= s.mx_concentration
    and s.baseline_failed_sessions < s.min_failed_sessions
    and s.known_mx_count >= 2
    and s.domain_success_rate >= s.min_domain_success_rate as is_failing_alone
from shares as s
left join mx_causes as c
    on s.report_date = c.report_date and s.policy_domain = c.policy_domain and s.receiving_mx = c.receiving_mx
