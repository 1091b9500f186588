-- grain: one row per domain in testing or none: ready for enforce or not, and what to fix first
-- reads: posture.domain_modes, posture.enforce_blockers, posture.domain_posture, posture.sts_domain_days,
-- staging.policies, config.causes
with candidates as (
    select * from posture.domain_modes
    where sts_mode in ('testing', 'none')
),

window_end as (
    select max(report_date) as data_through
    from staging.policies
),

sessions as (
    select
        d.policy_domain,
        sum(d.sts_session_count) as sessions_30d
    from posture.sts_domain_days as d
    cross join window_end as w
    where d.report_date > w.data_through - 30
    group by d.policy_domain
),

by_mx_cause as (
    select
        policy_domain,
        mx_host,
        cause,
        sum(failed_sessions) as failed_sessions,
        count(distinct reporter) as reporters
    from posture.enforce_blockers
    group by policy_domain, mx_host, cause
),

worst as (
    -- The top MX and cause come from one row, the most failed sessions first, ties by name: three
    -- arg_max calls could each pick another of the tied rows, and another on every build.
    select
        policy_domain,
        sum(failed_sessions) as would_fail_sessions,
        list_sort(list(distinct mx_host)) as failing_mx_hosts,
        first(mx_host order by failed_sessions desc, mx_host asc, cause asc) as top_mx_host,
        first(cause order by failed_sessions desc, mx_host asc, cause asc) as top_cause,
        max(failed_sessions) as top_failed_sessions,
        first(reporters order by failed_sessions desc, mx_host asc, cause asc) as top_reporters
    from by_mx_cause
    group by policy_domain
)

select
    c.policy_domain,
    c.sts_mode,
    c.mode_source,
    coalesce(s.sessions_30d, 0) as sessions_30d,
    coalesce(w.would_fail_sessions, 0) as would_fail_sessions,
    coalesce(w.failing_mx_hosts, []) as failing_mx_hosts,
    coalesce(d.findings, []) as posture_findings,
    case
        when coalesce(s.sessions_30d, 0) = 0 then 'unknown'
        when w.would_fail_sessions > 0 or d.fail_count > 0 then 'not ready'
        else 'ready'
    end as verdict,
    case
        when coalesce(s.sessions_30d, 0) = 0 then 'No MTA-STS sessions reported in the last 30 days: wait for reports.'
        when w.would_fail_sessions > 0
            then format(
                '{} on {}: {} of {} sessions would have failed ({} reporter(s)). {}',
                k.title, w.top_mx_host, w.top_failed_sessions, s.sessions_30d, w.top_reporters,
                replace(k.fix, '<domain>', c.policy_domain)
            )
        when d.fail_count > 0 then 'Fix what the posture check finds now: ' || array_to_string(d.findings, '; ')
        else 'No session of the last 30 days would have failed: set mode: enforce (and a new id in _mta-sts).'
    end as fix_first
from candidates as c
left join sessions as s on c.policy_domain = s.policy_domain
left join worst as w on c.policy_domain = w.policy_domain
left join posture.domain_posture as d on c.policy_domain = d.domain
left join config.causes as k on w.top_cause = k.cause
