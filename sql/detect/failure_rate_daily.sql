-- grain: one row per report_date, policy_domain and result_type failed there (zero-filled), with baselines
-- reads: marts.daily_domain_sessions, intermediate.failure_causes, intermediate.sessions_once_per_report,
--        config.thresholds
-- Failed sessions counted once per report (intermediate.failure_causes holds the detailed
-- failures of intermediate.failures_once_per_report): the failures no detail names have no type
-- to judge.
with t as (
    select * from config.thresholds
),

domain_days as (
    select
        report_date,
        policy_domain,
        total_session_count
    from marts.daily_domain_sessions
),

reporters_per_day as (
    select
        report_date,
        policy_domain,
        count(distinct reporter) as domain_reporters
    from intermediate.sessions_once_per_report
    group by report_date, policy_domain
),

failed as (
    select
        report_date,
        policy_domain,
        result_type,
        sum(failed_session_count) as failed_sessions
    from intermediate.failure_causes
    group by report_date, policy_domain, result_type
),

seen as (
    select distinct
        policy_domain,
        result_type
    from failed
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
        list(distinct c.sub_cause order by c.sub_cause) filter (where c.sub_cause is not null) as sub_causes,
        list(distinct c.sending_mta_network order by c.sending_mta_network) filter (
            where c.sending_mta_network is not null
        ) as sending_networks,
        count(distinct c.reporter) as failing_reporters,
        list(distinct c.report_key order by c.report_key)[1:20] as evidence_report_keys
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

series as (
    select
        d.report_date,
        d.policy_domain,
        s.result_type,
        d.total_session_count,
        coalesce(f.failed_sessions, 0) as failed_sessions,
        -- Against the day's sessions counted once; a report whose summary undercounts its details
        -- cannot push the rate over 1.
        case
            when greatest(d.total_session_count, coalesce(f.failed_sessions, 0)) = 0 then 0.0
            else coalesce(f.failed_sessions, 0) / greatest(d.total_session_count, coalesce(f.failed_sessions, 0))
        end as failure_rate,
        date_diff('day', date '2000-01-01', d.report_date) as day_number,
        dayofweek(d.report_date) as week_day
    from domain_days as d
    inner join seen as s on d.policy_domain = s.policy_domain
    left join failed as f
        on d.report_date = f.report_date and d.policy_domain = f.policy_domain and s.result_type = f.result_type
),

guarded as (
    select
        s.*,
        t.*,
        -- The minimum-volume guard: a handful of failed sessions is no incident, unless they are
        -- most of a small domain's sessions.
        (s.failed_sessions >= t.min_failed_sessions and s.failure_rate >= t.min_failure_rate)
        or (s.failed_sessions >= t.min_failed_sessions_most_failing and s.failure_rate >= t.most_failing_rate)
            as is_elevated,
        -- Still failing: enough to keep an open incident open (a quiet weekend or a reporter
        -- going silent shrinks the counts, not the fault), never enough to open one.
        s.failed_sessions >= 1 and s.failure_rate >= t.min_failure_rate as is_failing,
        coalesce(sum(s.failed_sessions) over w_history, 0) as failed_before
    from series as s
    cross join t
    window w_history as (
        partition by s.policy_domain, s.result_type order by s.day_number
        rows between unbounded preceding and 1 preceding
    )
),

baselines as (
    -- Trailing baselines, computed only for days that fail at all (a small share of all domain
    -- days: medians over sliding windows of every day cost most of this model at a million
    -- reports). The window is the series' previous baseline_days days, the day itself
    -- excluded, so a day is judged as soon as its reports are in.
    select
        c.policy_domain,
        c.result_type,
        c.day_number,
        count(*) as baseline_day_count,
        median(h.failure_rate) as median_rate,
        mad(h.failure_rate) as mad_rate,
        min(h.report_date) as baseline_from,
        max(h.report_date) as baseline_to,
        count(*) filter (where h.week_day = c.week_day) as week_day_day_count,
        median(h.failure_rate) filter (where h.week_day = c.week_day) as week_day_median_rate
    from guarded as c
    inner join series as h
        on
            c.policy_domain = h.policy_domain and c.result_type = h.result_type
            and h.day_number between c.day_number - c.baseline_days and c.day_number - 1
    where c.is_failing
    group by c.policy_domain, c.result_type, c.day_number
),

scored as (
    select
        g.*,
        coalesce(b.baseline_day_count, 0) as baseline_day_count,
        b.baseline_from,
        b.baseline_to,
        -- Weekday-aware: with three or more same-weekday days in the window, that weekday's
        -- median is the baseline (a sender that always fails a little on Mondays does not page
        -- on Mondays); otherwise the whole window's median.
        coalesce(case when b.week_day_day_count >= 3 then b.week_day_median_rate end, b.median_rate, 0.0)
            as baseline_rate,
        greatest(1.4826 * coalesce(b.mad_rate, 0.0), g.rate_noise_floor) as rate_scale
    from guarded as g
    left join baselines as b
        on g.policy_domain = b.policy_domain and g.result_type = b.result_type and g.day_number = b.day_number
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
    -- outage stays visible after its baseline has caught up with it.
    select
        report_date,
        policy_domain,
        result_type,
        sum(case when gap is null or gap > resolve_after_days then 1 else 0 end) over (
            partition by policy_domain, result_type order by report_date
        ) as run_number
    from (
        select
            report_date,
            policy_domain,
            result_type,
            resolve_after_days,
            date_diff(
                'day', lag(report_date) over (partition by policy_domain, result_type order by report_date), report_date
            ) as gap
        from flagged
        where is_failing
    ) as failing
),

runs as (
    select
        f.*,
        r.run_number,
        min(case when f.is_spike or f.is_new_type then f.report_date end) over (
            partition by f.policy_domain, f.result_type, r.run_number
        ) as run_onset
    from flagged as f
    left join failing_runs as r
        on f.report_date = r.report_date and f.policy_domain = r.policy_domain and f.result_type = r.result_type
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
