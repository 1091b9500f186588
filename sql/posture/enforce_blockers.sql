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

failures as (
    -- In testing mode a sender delivers despite a failed MTA-STS validation and reports it:
    -- under enforce each of these sessions would not have been delivered.
    -- Failures are counted once per report (a report listing them under its sts and its tlsa
    -- policy counts them once), so a report that applied an MTA-STS policy is looked up for each
    -- failure of the window: a semi-join on the failures' keys, not a distinct of every sts
    -- policy's key of all time (0.21 s of the model's 0.35 s at 1M reports).
    select f.*
    from intermediate.failure_causes as f
    cross join window_end as w
    inner join candidates as c on f.policy_domain = c.policy_domain
    where f.report_date > w.data_through - 30 and exists (
        select 1 from staging.policies as s
        where s.policy_type = 'sts' and s.report_key = f.report_key and s.policy_domain = f.policy_domain
    )
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
