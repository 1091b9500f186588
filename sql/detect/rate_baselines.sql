-- grain: one row per rate series (metric, policy_domain, subject) and judged day: its trailing baseline
-- reads: detect.failure_rate_series, detect.reporter_success_series, config.thresholds
-- The one baseline rule of the rate detectors: the series' previous baseline_days days, the day
-- itself excluded (a day is judged as soon as its reports are in), computed only for the days
-- judged (a small share of all days).
with t as (
    select * from config.thresholds
),

series as (
    select
        'failure_rate' as metric,
        policy_domain,
        result_type as subject,
        report_date,
        day_number,
        week_day,
        failure_rate as rate,
        is_failing as is_judged
    from detect.failure_rate_series
    union all
    select
        'success_rate' as metric,
        policy_domain,
        reporter as subject,
        report_date,
        day_number,
        week_day,
        success_rate as rate,
        is_judged
    from detect.reporter_success_series
),

baselines as (
    select
        c.metric,
        c.policy_domain,
        c.subject,
        c.day_number,
        count(*) as baseline_day_count,
        median(h.rate) as median_rate,
        mad(h.rate) as mad_rate,
        min(h.report_date) as baseline_from,
        max(h.report_date) as baseline_to,
        count(*) filter (where h.week_day = c.week_day) as week_day_day_count,
        median(h.rate) filter (where h.week_day = c.week_day) as week_day_median_rate
    from series as c
    cross join t
    inner join series as h
        on
            c.metric = h.metric and c.policy_domain = h.policy_domain and c.subject = h.subject
            and h.day_number between c.day_number - t.baseline_days and c.day_number - 1
    where c.is_judged
    group by c.metric, c.policy_domain, c.subject, c.day_number
)

select
    b.metric,
    b.policy_domain,
    b.subject,
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
