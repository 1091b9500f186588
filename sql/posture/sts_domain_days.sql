-- grain: one row per report_date and policy domain with an MTA-STS policy applied: the day's mode and sessions
-- incremental: report_date, lookback 0 days
-- reads: staging.policies
-- The per-day part of posture.domain_modes and posture.enforce_readiness: they read these rows
-- (a domain's days) instead of every MTA-STS policy row of all time, and a new day adds its rows
-- only. A day's mode is the largest by name when the day's reports saw two (a switch that day):
-- a fixed choice, so a build of the day and a full build give the same row.
select
    report_date,
    policy_domain,
    max(nullif(sts_mode, '-')) as applied_mode,
    sum(successful_session_count + failed_session_count) as sts_session_count
from staging.policies
where policy_type = 'sts'
group by report_date, policy_domain
