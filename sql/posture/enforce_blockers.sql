-- grain: one row per domain in testing/none, MX host, reporter and cause (last 30 days): sessions enforce would fail
-- reads: posture.domain_modes, posture.failure_days
with window_end as (
    -- The window ends at the newest report, so a corpus of any age is judged the same way.
    select max(report_date) as data_through
    from posture.failure_days
),

candidates as (
    select policy_domain from posture.domain_modes
    where sts_mode in ('testing', 'none')
),

failures as (
    -- In testing mode a sender delivers despite a failed MTA-STS validation and reports it:
    -- under enforce each of these sessions would not have been delivered. Only the failures of
    -- reports that applied an MTA-STS policy for the domain count (posture.failure_days says
    -- which, per day, so the window's lookup among the policies is not redone on every build).
    select f.*
    from posture.failure_days as f
    cross join window_end as w
    inner join candidates as c on f.policy_domain = c.policy_domain
    where f.report_date > w.data_through - 30 and f.is_under_sts
)

select
    policy_domain,
    coalesce(mx_host, '(not named)') as mx_host,
    reporter,
    cause,
    sum(failed_session_count) as failed_sessions,
    min(report_date) as first_seen,
    max(report_date) as last_seen
from failures
group by policy_domain, coalesce(mx_host, '(not named)'), reporter, cause
