-- grain: one row per rate series (metric, policy_domain, subject) and judged day: its trailing baseline
-- incremental: report_date, lookback baseline_days
-- reads: detect.failure_rate_series, detect.reporter_success_series, marts.daily_domain_sessions, config.thresholds
-- The one baseline rule of the rate detectors: the series' previous baseline_days days, the day
-- itself excluded (a day is judged as soon as its reports are in), computed only for the days
-- judged (a small share of all days).
with t as (
    select * from config.thresholds
),

judged as not materialized (
    -- Not materialized: read twice, and a materialized CTE keeps the build's date filter out of
    -- its scans (every failing and judged day of all time).
    select
        'failure_rate' as metric,
        policy_domain,
        result_type as subject,
        report_date,
        day_number,
        week_day
    from detect.failure_rate_series
    where is_failing
    union all
    select
        'success_rate' as metric,
        policy_domain,
        reporter as subject,
        report_date,
        day_number,
        week_day
    from detect.reporter_success_series
    where is_judged
),

history as (
    -- A failure rate's history is every day of the domain in the window: a type's series starts
    -- at its first failure (detect.failure_rate_series), so the domain's days before it count
    -- as a rate of zero, as if the series had been zero-filled back to them.
    select
        c.metric,
        c.policy_domain,
        c.subject,
        c.report_date,
        c.day_number,
        c.week_day as judged_week_day,
        d.report_date as history_date,
        dayofweek(d.report_date) as week_day,
        coalesce(h.failure_rate, 0.0) as rate
    from judged as c
    cross join t
    inner join marts.daily_domain_sessions as d
        on
            c.policy_domain = d.policy_domain
            and d.report_date between c.report_date - t.baseline_days and c.report_date - 1
    left join detect.failure_rate_series as h
        on d.policy_domain = h.policy_domain and c.subject = h.result_type and d.report_date = h.report_date
    where c.metric = 'failure_rate'
    union all
    -- A reporter's history is the days it reported (no zero-fill: a silent reporter is no failure).
    select
        c.metric,
        c.policy_domain,
        c.subject,
        c.report_date,
        c.day_number,
        c.week_day as judged_week_day,
        h.report_date as history_date,
        h.week_day,
        h.success_rate as rate
    from judged as c
    cross join t
    inner join detect.reporter_success_series as h
        on
            c.policy_domain = h.policy_domain and c.subject = h.reporter
            and h.day_number between c.day_number - t.baseline_days and c.day_number - 1
    where c.metric = 'success_rate'
),

baselines as (
    select
        metric,
        policy_domain,
        subject,
        report_date,
        day_number,
        count(*) as baseline_day_count,
        median(rate) as median_rate,
        mad(rate) as mad_rate,
        min(history_date) as baseline_from,
        max(history_date) as baseline_to,
        count(*) filter (where week_day = judged_week_day) as week_day_day_count,
        median(rate) filter (where week_day = judged_week_day) as week_day_median_rate
    from history
    group by metric, policy_domain, subject, report_date, day_number
)

select
    b.metric,
    b.policy_domain,
    b.subject,
    b.report_date,
    b.day_number,
    b.baseline_day_count,
    b.baseline_from,
    b.baseline_to,
    -- Weekday-aware: with at least 3 same-weekday days in the window, that weekday's median is
    -- the baseline (a sender that always fails a little on Mondays does not page on Mondays);
    -- otherwise the whole window's median.
    coalesce(case when b.week_day_day_count >= 3 then b.week_day_median_rate end, b.median_rate) as baseline_rate,
    -- The spread: the median absolute deviation scaled by 1.4826 (a normal distribution's
    -- standard deviation), never below the noise floor.
    greatest(1.4826 * coalesce(b.mad_rate, 0.0), t.rate_noise_floor) as rate_scale
from baselines as b
cross join t
