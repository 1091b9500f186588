-- grain: one row per report_date, policy_domain and receiving MX (host, or IP without host) failing there that day
-- incremental: report_date, lookback baseline_days
-- reads: intermediate.failure_causes, marts.daily_domain_sessions, config.thresholds
-- The days an MX failed, each with its baseline: what detect.mx_failures_daily needs per day, without
-- what rests on all time (the zero-filled days of an MX that fails later, the domain's MX count).
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
    -- policies list the same sessions), as the session marts do. Every day: a judged day's
    -- baseline window reaches back before the days the build redoes.
    select
        report_date,
        policy_domain,
        receiving_mx,
        sum(failed_session_count)::bigint as failed_sessions
    from causes
    group by report_date, policy_domain, receiving_mx
),

evidence as (
    -- Apart from the sums, so the build's date filter reaches it: the days redone only.
    select
        report_date,
        policy_domain,
        receiving_mx,
        list_sort(list(distinct report_key))[1:20] as evidence_report_keys
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

baselines as (
    -- The MX's previous baseline_days days of the domain, a day it did not fail counting as zero
    -- (as in the zero-filled series of detect.mx_failures_daily), only for days it fails enough to
    -- be judged (a sliding median over every MX day cost most of the model at a million reports).
    select
        c.report_date,
        c.policy_domain,
        c.receiving_mx,
        median(coalesce(h.failed_sessions, 0)) as baseline_failed_sessions,
        count(*) as baseline_day_count
    from per_mx as c
    cross join t
    inner join marts.daily_domain_sessions as d
        on
            c.policy_domain = d.policy_domain
            and d.report_date between c.report_date - t.baseline_days and c.report_date - 1
    left join per_mx as h
        on d.report_date = h.report_date and d.policy_domain = h.policy_domain and c.receiving_mx = h.receiving_mx
    where c.failed_sessions >= t.min_failed_sessions
    group by c.report_date, c.policy_domain, c.receiving_mx
)

select
    p.report_date,
    p.policy_domain,
    p.receiving_mx,
    c.cause,
    p.failed_sessions,
    coalesce(b.baseline_failed_sessions, 0) as baseline_failed_sessions,
    coalesce(b.baseline_day_count, 0) as baseline_day_count,
    e.evidence_report_keys
from per_mx as p
left join evidence as e
    on p.report_date = e.report_date and p.policy_domain = e.policy_domain and p.receiving_mx = e.receiving_mx
left join mx_causes as c
    on p.report_date = c.report_date and p.policy_domain = c.policy_domain and p.receiving_mx = c.receiving_mx
left join baselines as b
    on p.report_date = b.report_date and p.policy_domain = b.policy_domain and p.receiving_mx = b.receiving_mx
