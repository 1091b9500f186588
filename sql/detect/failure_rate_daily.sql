-- grain: one row per report_date, policy_domain and result_type failed there (zero-filled), with baselines
-- incremental: report_date, lookback all
-- reads: detect.failure_rate_series, detect.rate_baselines, intermediate.failure_causes,
--        intermediate.sessions_once_per_report, config.thresholds
with t as (
    select * from config.thresholds
),

reporters_per_day as (
    select
        report_date,
        policy_domain,
        count(distinct reporter) as domain_reporters
    from intermediate.sessions_once_per_report
    group by report_date, policy_domain
),

cause_sessions as (
    select
        report_date,
        policy_domain,
        result_type,
        cause,
        sum(failed_session_count) as failed
    from intermediate.failure_causes
    group by report_date, policy_domain, result_type, cause
),

day_evidence as (
    -- What the day's failures of this type rest on: their dominant cause, the sub-causes read
    -- from reason texts, where they hit and who saw them, and the reports themselves.
    select
        c.report_date,
        c.policy_domain,
        c.result_type,
        list_sort(list(distinct c.sub_cause) filter (where c.sub_cause is not null)) as sub_causes,
        list_sort(list(distinct c.sending_mta_network) filter (
            where c.sending_mta_network is not null
        )) as sending_networks,
        count(distinct c.reporter) as failing_reporters,
        list_sort(list(distinct c.report_key))[1:20] as evidence_report_keys
    from intermediate.failure_causes as c
    group by c.report_date, c.policy_domain, c.result_type
),

dominant as (
    select
        report_date,
        policy_domain,
        result_type,
        -- The cause with the most failed sessions; on a tie the first by name.
        first(cause order by failed desc, cause asc) as cause
    from cause_sessions
    group by report_date, policy_domain, result_type
),

scored as (
    select
        g.*,
        t.*,
        coalesce(b.baseline_day_count, 0) as baseline_day_count,
        b.baseline_from,
        b.baseline_to,
        coalesce(b.baseline_rate, 0.0) as baseline_rate,
        coalesce(b.rate_scale, t.rate_noise_floor) as rate_scale
    from detect.failure_rate_series as g
    cross join t
    left join detect.rate_baselines as b
        on
            b.metric = 'failure_rate' and g.policy_domain = b.policy_domain and g.result_type = b.subject
            and g.day_number = b.day_number
),

flagged as (
    select
        *,
        (failure_rate - baseline_rate) / rate_scale as score,
        is_elevated
        and baseline_day_count >= min_baseline_days
        and failure_rate - baseline_rate >= min_rate_increase
        and (failure_rate - baseline_rate) / rate_scale >= z_threshold as is_spike,
        is_elevated and failed_before = 0 as is_new_type
    from scored
),

failing_runs as (
    -- Failing days closer than resolve_after_days belong to one run; a run is an incident from
    -- its first spike (or first-ever day of a type) for as long as it keeps failing, so a long
    -- outage stays visible after its baseline has caught up with it. Numbered over the failing
    -- days alone (a small share of the zero-filled series), which is all a run holds.
    select
        report_date,
        policy_domain,
        result_type,
        run_number,
        -- Up to this day only: a day's row never waits for later days (the build redoes only
        -- the days new reports touched). A day before the run's first spike has none yet.
        min(case when is_spike or is_new_type then report_date end) over (
            partition by policy_domain, result_type, run_number order by report_date
            rows between unbounded preceding and current row
        ) as run_onset
    from (
        select
            *,
            sum(case when gap is null or gap > resolve_after_days then 1 else 0 end) over (
                partition by policy_domain, result_type order by report_date
            ) as run_number
        from (
            select
                report_date,
                policy_domain,
                result_type,
                resolve_after_days,
                is_spike,
                is_new_type,
                date_diff(
                    'day',
                    lag(report_date) over (partition by policy_domain, result_type order by report_date),
                    report_date
                ) as gap
            from flagged
            where is_failing
        ) as failing
    ) as numbered
),

onset_outside_runs as (
    -- The days not failing share no run: their onset is the first spike or new type among them
    -- up to the day (none where an elevated day is always a failing one, as under the defaults).
    select
        policy_domain,
        result_type,
        min(report_date) as run_onset
    from flagged
    where not is_failing and (is_spike or is_new_type)
    group by policy_domain, result_type
),

runs as (
    select
        f.*,
        r.run_number,
        case
            when f.is_failing then r.run_onset
            when o.run_onset <= f.report_date then o.run_onset
        end as run_onset
    from flagged as f
    left join failing_runs as r
        on f.report_date = r.report_date and f.policy_domain = r.policy_domain and f.result_type = r.result_type
    left join onset_outside_runs as o on f.policy_domain = o.policy_domain and f.result_type = o.result_type
)

select
    r.report_date,
    r.policy_domain,
    r.result_type,
    r.total_session_count,
    r.failed_sessions,
    r.failure_rate,
    r.baseline_rate,
    r.rate_scale,
    r.score,
    r.baseline_day_count,
    r.baseline_from,
    r.baseline_to,
    r.is_elevated,
    r.is_failing,
    r.is_spike,
    r.is_new_type,
    r.run_number,
    r.run_onset,
    r.is_failing and r.run_onset is not null and r.report_date >= r.run_onset as is_anomalous,
    d.cause,
    e.sub_causes,
    e.sending_networks,
    e.failing_reporters,
    coalesce(p.domain_reporters, 0) as domain_reporters,
    e.evidence_report_keys
from runs as r
left join dominant as d
    on r.report_date = d.report_date and r.policy_domain = d.policy_domain and r.result_type = d.result_type
left join day_evidence as e
    on r.report_date = e.report_date and r.policy_domain = e.policy_domain and r.result_type = e.result_type
left join reporters_per_day as p on r.report_date = p.report_date and r.policy_domain = p.policy_domain
