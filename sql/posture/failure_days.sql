-- grain: one row per report_date, policy domain, MX host, reporter, cause and whether its report applied MTA-STS
-- incremental: report_date, lookback 0 days
-- reads: intermediate.failure_causes, staging.policies
-- The per-day part of posture.enforce_blockers and posture.uncovered_mx: their 30-day windows
-- sum these rows instead of every failure and, for each, a lookup among every MTA-STS policy of
-- all time (904k policy rows read per build at 1M reports); a new day adds its rows only.
with failures as (
    select
        f.report_date,
        f.policy_domain,
        f.mx_host,
        f.reporter,
        f.cause,
        f.failed_session_count,
        -- Failures are counted once per report (under its sts and its tlsa policy alike), so whether
        -- the report applied an MTA-STS policy for the domain is asked of the report. Its policies
        -- share its date: keyed by the date too, a build of one day looks among that day's only.
        exists(
            select 1 from staging.policies as s
            where
                s.policy_type = 'sts' and s.report_date = f.report_date and s.report_key = f.report_key
                and s.policy_domain = f.policy_domain
        ) as is_under_sts
    from intermediate.failure_causes as f
)

select
    report_date,
    policy_domain,
    mx_host,
    reporter,
    cause,
    is_under_sts,
    sum(failed_session_count) as failed_session_count
from failures
group by report_date, policy_domain, mx_host, reporter, cause, is_under_sts
