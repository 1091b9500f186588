-- grain: one row per domain in testing/none, MX host, reporter and cause (last 30 days): sessions enforce would fail
-- reads: posture.domain_modes, intermediate.failure_causes, staging.policies
with window_end as (
    -- The window ends at the newest report, so a corpus of any age is judged the same way.
    select max(report_date) as data_through
    from intermediate.failure_causes
),

candidates as (
    select policy_domain from posture.domain_modes
    where sts_mode in ('testing', 'none')
),

sts_reports as (
    -- Failures are counted once per report (a report listing them under its sts and its tlsa
    -- policy counts them once), so the reports that applied an MTA-STS policy are named here.
    select distinct
        report_key,
        policy_domain
    from staging.policies
    where policy_type = 'sts'
),

failures as (
    -- In testing mode a sender delivers despite a failed MTA-STS validation and reports it:
    -- under enforce each of these sessions would not have been delivered.
    select f.*
    from intermediate.failure_causes as f
    cross join window_end as w
    inner join candidates as c on f.policy_domain = c.policy_domain
    inner join sts_reports as s on f.report_key = s.report_key and f.policy_domain = s.policy_domain
    where f.report_date > w.data_through - 30
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
