-- grain: one row per report_date, reporter, organization_name, arrival_lag_hours and conformance_flags: reports counted
-- incremental: report_date, lookback 0 days
-- reads: staging.reports
-- The reports of marts.reporter_health, counted per day by everything it summarises over all
-- time, so that mart merges a few rows a day instead of reading every report again: the names
-- a reporter writes, the arrival lags (whole minutes, so few distinct values: its median is
-- found from their counts), the leniency flags and the DKIM-verified share.
select
    report_date,
    reporter,
    organization_name,
    arrival_lag_hours,
    conformance_flags,
    count(*) as report_count,
    count(*) filter (where trust = 'dkim_verified') as dkim_verified_report_count
from staging.reports
group by report_date, reporter, organization_name, arrival_lag_hours, conformance_flags
