-- grain: one row per report_date, policy_domain, reporter: success rate against its own trailing baseline
-- incremental: report_date, lookback 0 days
-- reads: detect.reporter_success_series, detect.rate_baselines, intermediate.failure_causes, config.thresholds
with t as (
    select * from config.thresholds
),

cause_sessions as (
    select
        report_date,
        policy_domain,
        reporter,
        cause,
        sum(failed_session_count) as failed,
        list_sort(list(distinct report_key))[1:20] as report_keys
    from intermediate.failure_causes
    group by report_date, policy_domain, reporter, cause
),

dominant as (
    select
        report_date,
        policy_domain,
        reporter,
        -- The cause with the most failed sessions and its reports; on a tie the first by name.
        first(cause order by failed desc, cause asc) as cause,
        first(report_keys order by failed desc, cause asc) as evidence_report_keys
    from cause_sessions
    group by report_date, policy_domain, reporter
),

scored as (
    select
        r.*,
        t.*,
        coalesce(b.baseline_day_count, 0) as baseline_day_count,
        b.baseline_from,
        b.baseline_to,
        b.baseline_rate,
        coalesce(b.rate_scale, t.rate_noise_floor) as rate_scale
    from detect.reporter_success_series as r
    cross join t
    left join detect.rate_baselines as b
        on
            b.metric = 'success_rate' and r.policy_domain = b.policy_domain and r.reporter = b.subject
            -- By the date, not day_number: the build's date filter then reaches the baselines' scan.
            and r.report_date = b.report_date
)

select
    s.report_date,
    s.policy_domain,
    s.reporter,
    s.successful_sessions,
    s.failed_sessions,
    s.total_sessions,
    s.success_rate,
    s.baseline_rate,
    s.rate_scale,
    (s.baseline_rate - s.success_rate) / s.rate_scale as score,
    s.baseline_day_count,
    s.baseline_from,
    s.baseline_to,
    s.is_judged
    and s.baseline_day_count >= s.min_baseline_days
    and s.baseline_rate - s.success_rate >= s.min_rate_drop
    and (s.baseline_rate - s.success_rate) / s.rate_scale >= s.z_threshold as is_drop,
    d.cause,
    d.evidence_report_keys
from scored as s
left join dominant as d
    on s.report_date = d.report_date and s.policy_domain = d.policy_domain and s.reporter = d.reporter
