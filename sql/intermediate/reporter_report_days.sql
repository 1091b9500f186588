-- grain: one row per report_date, reporter and policy_domain the reporter sent a report on
-- incremental: report_date, lookback 0 days
-- reads: intermediate.sessions_once_per_report
-- The days the cadence models (detect.reporter_day_gaps, detect.reporter_learning) look up,
-- one row each: a new day adds its own, so they never group every report of all time again.
select distinct
    report_date,
    reporter,
    policy_domain
from intermediate.sessions_once_per_report
