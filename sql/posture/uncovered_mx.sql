-- grain: one row per domain and MX host that receives mail (reports or DNS) but no published mx: pattern covers
-- reads: posture.domain_posture, posture.failure_days
with posture_now as (
    select * from posture.domain_posture
    where published_mx_patterns is not null
),

window_end as (
    select max(report_date) as data_through
    from posture.failure_days
),

reported as (
    -- MX hosts senders reached in the last 30 days (reports name an MX only in failure details),
    -- of the domains that publish mx: patterns only: no other domain's row is judged below, and
    -- few domains are checked, so most of the window's failures are not grouped at all.
    select
        f.policy_domain,
        f.mx_host,
        sum(f.failed_session_count) as failed_sessions_30d,
        max(f.report_date) as last_reported
    from posture.failure_days as f
    cross join window_end as w
    where
        f.mx_host is not null and f.report_date > w.data_through - 30
        and f.policy_domain in (select posture_now.domain from posture_now)
    group by f.policy_domain, f.mx_host
),

in_dns as (
    select
        domain as policy_domain,
        unnest(mx_hosts) as mx_host
    from posture_now
),

receiving as (
    select
        coalesce(r.policy_domain, d.policy_domain) as policy_domain,
        coalesce(r.mx_host, d.mx_host) as mx_host,
        d.mx_host is not null as is_in_dns,
        coalesce(r.failed_sessions_30d, 0) as failed_sessions_30d,
        r.last_reported
    from reported as r
    full outer join in_dns as d on r.policy_domain = d.policy_domain and r.mx_host = d.mx_host
),

judged as (
    select
        r.*,
        p.published_mx_patterns,
        -- RFC 8461 4.1: "*.example.com" covers exactly one more label on the left.
        len(list_filter(p.published_mx_patterns, pat -> pat = r.mx_host or (
            starts_with(pat, '*.') and ends_with(r.mx_host, substr(pat, 2))
            and strpos(left(r.mx_host, length(r.mx_host) - length(pat) + 1), '.') = 0
            and length(r.mx_host) > length(pat) - 1
        ))) > 0 as is_covered
    from receiving as r
    inner join posture_now as p on r.policy_domain = p.domain
)

select * from judged
where not is_covered
