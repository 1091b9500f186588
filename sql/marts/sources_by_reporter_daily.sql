-- grain: one row per report_date, policy_domain, reporter, trust (sources at the reporter level)
-- incremental: report_date, lookback 0 days
-- reads: intermediate.reporter_sessions_daily
-- Sessions counted once per report, top result types of the failures counted once
-- (intermediate.reporter_sessions_daily). The name a reporter uses most is all-time: readers
-- take it from marts.reporter_health (join on reporter), so this table holds only each day's
-- counts and a new day rewrites only that day.
with per_day as (
    select
        report_date,
        policy_domain,
        reporter,
        trust,
        successful_session_count,
        failed_session_count,
        total_session_count,
        report_count,
        top_result_types,
        success_rate
    from intermediate.reporter_sessions_daily
)

select * from per_day
