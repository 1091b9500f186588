-- grain: one row per report_date, policy_domain, reporter, trust (sources at the reporter level)
-- reads: intermediate.reporter_sessions_daily, marts.reporter_health
-- Sessions counted once per report, top result types of the failures counted once
-- (intermediate.reporter_sessions_daily), with the name a reporter uses most beside its
-- normalised key. That name is all-time, so this join is rebuilt in full; the day's counts are
-- built incrementally below it.
select
    d.report_date,
    d.policy_domain,
    d.reporter,
    d.trust,
    d.successful_session_count,
    d.failed_session_count,
    d.total_session_count,
    d.report_count,
    n.organization_name,
    d.top_result_types,
    d.success_rate
from intermediate.reporter_sessions_daily as d
inner join marts.reporter_health as n on d.reporter = n.reporter
