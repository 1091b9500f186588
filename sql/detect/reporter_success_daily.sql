-- grain: one row per report_date, policy_domain, reporter: success rate against its own trailing baseline
-- reads: marts.sources_by_reporter_daily, intermediate.failure_causes, config.thresholds
with t as (
    select * from config.thresholds
),

per_reporter as (
    -- Trust levels are one sender's sessions split by how the report arrived: add them up.
    select
        report_date,
        policy_domain,
        reporter,
        sum(successful_session_count)::bigint as successful_sessions,
        sum(failed_session_count)::bigint as failed_sessions,
        sum(total_session_count)::bigint as total_sessions,
        date_diff('day', date '2000-01-01', report_date) as day_number,
        dayofweek(report_date) as week_day
    from marts.sources_by_reporter_daily
    group by report_date, policy_domain, reporter
),

rated as (
    select
        *,
        case when total_sessions > 0 then successful_sessions / total_sessions else 1.0 end as success_rate
    from per_reporter
),

cause_sessions as (
    select
        report_date,
        policy_domain,
        reporter,
        cause,
        sum(failed_session_count) as failed,
        list(distinct report_key order by report_key)[1:20] as report_keys
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

candidates as (
    -- Baselines only for days with enough failures to matter (the guard below): medians over
    -- sliding windows of every reporter day cost most of this model at a million reports.
    select
        r.*,
        t.*
    from rated as r
    cross join t
    where r.failed_sessions >= t.min_failed_sessions and 1 - r.success_rate >= t.min_failure_rate
),

baselines as (
    -- The reporter's previous baseline_days days for the domain, the day itself excluded.
    select
        c.policy_domain,
        c.reporter,
        c.day_number,
        count(*) as baseline_day_count,
        median(h.success_rate) as median_rate,
        mad(h.success_rate) as mad_rate,
        min(h.report_date) as baseline_from,
        max(h.report_date) as baseline_to,
        count(*) filter (where h.week_day = c.week_day) as week_day_day_count,
        median(h.success_rate) filter (where h.week_day = c.week_day) as week_day_median_rate
    from candidates as c
    inner join rated as h
        on
            c.policy_domain = h.policy_domain and c.reporter = h.reporter
            and h.day_number between c.day_number - c.baseline_days and c.day_number - 1
    group by c.policy_domain, c.reporter, c.day_number
),

scored as (
    select
        r.*,
        t.*,
        coalesce(b.baseline_day_count, 0) as baseline_day_count,
        b.baseline_from,
        b.baseline_to,
        coalesce(case when b.week_day_day_count >= 3 then b.week_day_median_rate end, b.median_rate) as baseline_rate,
        greatest(1.4826 * coalesce(b.mad_rate, 0.0), t.rate_noise_floor) as rate_scale
    from rated as r
    cross join t
    left join baselines as b
        on r.policy_domain = b.policy_domain and r.reporter = b.reporter and r.day_number = b.day_number
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
    s.failed_sessions >= s.min_failed_sessions
    and 1 - s.success_rate >= s.min_failure_rate
    and s.baseline_day_count >= s.min_baseline_days
    and s.baseline_rate - s.success_rate >= s.min_rate_drop
    and (s.baseline_rate - s.success_rate) / s.rate_scale >= s.z_threshold as is_drop,
    d.cause,
    d.evidence_report_keys
from scored as s
left join dominant as d
    on s.report_date = d.report_date and s.policy_domain = d.policy_domain and s.reporter = d.reporter
