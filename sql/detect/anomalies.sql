-- grain: one row per detector, subject and day that breaks its baseline (a silence: one row per gap)
-- reads: detect.failure_rate_daily, detect.reporter_success_daily, detect.mx_failures_daily
--        detect.reporter_cadence, detect.policy_versions_daily, config.thresholds
-- Every row carries its evidence: what was observed, the baseline and the window it came from,
-- the score and the threshold it was held to, and the reports the day rests on.
with t as (
    select * from config.thresholds
),

failure_rates as (
    select
        case
            when f.is_new_type then 'new_result_type'
            when f.is_spike then 'failure_spike'
            else 'failure_sustained'
        end as detector,
        f.report_date,
        f.report_date as detected_on,
        f.policy_domain,
        f.result_type,
        null::varchar as reporter,
        null::varchar as receiving_mx,
        f.cause,
        'failure_rate' as metric,
        f.failure_rate as observed,
        f.baseline_rate as baseline,
        f.score,
        case
            when f.is_new_type then t.min_failed_sessions
            when f.is_spike then t.z_threshold
            else t.min_failed_sessions
        end as threshold,
        f.failed_sessions,
        f.total_session_count as total_sessions,
        f.baseline_from,
        f.baseline_to,
        f.baseline_day_count,
        f.evidence_report_keys,
        f.sending_networks,
        f.failing_reporters,
        f.domain_reporters,
        case
            when f.is_new_type
                then
                    format(
                        'First {} failures ever seen for this domain: {} of {} sessions.',
                        f.result_type, f.failed_sessions, f.total_session_count
                    )
            when f.is_spike
                then
                    format(
                        '{} failures at {:.1f}% of sessions against a baseline of {:.1f}% (score {:.1f}).',
                        f.result_type, 100 * f.failure_rate, 100 * f.baseline_rate, f.score
                    )
            else format(
                '{} failures still at {:.1f}% of sessions since {}.', f.result_type, 100 * f.failure_rate, f.run_onset
            )
        end as detail
    from detect.failure_rate_daily as f
    cross join t
    where f.is_anomalous
),

success_drops as (
    select
        'success_drop' as detector,
        s.report_date,
        s.report_date as detected_on,
        s.policy_domain,
        null::varchar as result_type,
        s.reporter,
        null::varchar as receiving_mx,
        s.cause,
        'success_rate' as metric,
        s.success_rate as observed,
        s.baseline_rate as baseline,
        s.score,
        t.z_threshold as threshold,
        s.failed_sessions,
        s.total_sessions,
        s.baseline_from,
        s.baseline_to,
        s.baseline_day_count,
        s.evidence_report_keys,
        null::varchar[] as sending_networks,
        1 as failing_reporters,
        null::bigint as domain_reporters,
        format(
            'Success rate seen by {} fell to {:.1f}% from a baseline of {:.1f}% (score {:.1f}).',
            s.reporter, 100 * s.success_rate, 100 * s.baseline_rate, s.score
        ) as detail
    from detect.reporter_success_daily as s
    cross join t
    where s.is_drop
),

mx_alone as (
    select
        'mx_failing_alone' as detector,
        m.report_date,
        m.report_date as detected_on,
        m.policy_domain,
        null::varchar as result_type,
        null::varchar as reporter,
        m.receiving_mx,
        m.cause,
        'mx_failure_share' as metric,
        m.mx_share as observed,
        m.baseline_failed_sessions as baseline,
        m.mx_share as score,
        t.mx_concentration as threshold,
        m.failed_sessions,
        m.total_session_count as total_sessions,
        null::date as baseline_from,
        null::date as baseline_to,
        m.baseline_day_count,
        m.evidence_report_keys,
        null::varchar[] as sending_networks,
        null::bigint as failing_reporters,
        null::bigint as domain_reporters,
        format(
            '{} carries {:.0f}% of the day''s failures ({} sessions) '
            || 'while the domain delivers {:.0f}% of sessions fine.',
            m.receiving_mx, 100 * m.mx_share, m.failed_sessions, 100 * m.domain_success_rate
        ) as detail
    from detect.mx_failures_daily as m
    cross join t
    where m.is_failing_alone
),

silences as (
    select
        'silent_reporter' as detector,
        c.last_report_day + 1 as report_date,
        c.silent_detectable_on as detected_on,
        c.policy_domain,
        null::varchar as result_type,
        c.reporter,
        null::varchar as receiving_mx,
        'reporter_silent' as cause,
        'days_without_report' as metric,
        c.gap_days::double as observed,
        c.usual_max_gap::double as baseline,
        c.gap_days / c.allowed_gap_days as score,
        c.allowed_gap_days::double as threshold,
        null::bigint as failed_sessions,
        null::bigint as total_sessions,
        -- The reporter's cadence was learnt over this window (detect.reporter_cadence).
        c.last_report_day - t.silence_learning_days as baseline_from,
        c.last_report_day as baseline_to,
        c.learning_report_days as baseline_day_count,
        null::varchar[] as evidence_report_keys,
        null::varchar[] as sending_networks,
        null::bigint as failing_reporters,
        null::bigint as domain_reporters,
        case
            when c.next_report_day is null
                then
                    format(
                        'No report from {} since {} ({} days; it usually leaves at most {} between reports).',
                        c.reporter, c.last_report_day, c.gap_days - 1, c.usual_max_gap
                    )
            else format(
                'No report from {} between {} and {} ({} days; it usually leaves at most {}).',
                c.reporter, c.last_report_day, c.next_report_day, c.gap_days - 1, c.usual_max_gap
            )
        end as detail
    from detect.reporter_cadence as c
    cross join t
    where c.is_silent
),

stale as (
    select
        'stale_policy' as detector,
        p.report_date,
        p.report_date as detected_on,
        p.policy_domain,
        null::varchar as result_type,
        p.reporter,
        null::varchar as receiving_mx,
        'stale_policy' as cause,
        'days_since_newer_policy' as metric,
        date_diff('day', p.newer_first_seen, p.report_date)::double as observed,
        0.0 as baseline,
        date_diff('day', p.newer_first_seen, p.report_date)::double as score,
        t.stale_policy_days as threshold,
        null::bigint as failed_sessions,
        null::bigint as total_sessions,
        p.version_first_seen as baseline_from,
        p.newer_first_seen as baseline_to,
        null::bigint as baseline_day_count,
        p.report_keys[1:20] as evidence_report_keys,
        null::varchar[] as sending_networks,
        null::bigint as failing_reporters,
        null::bigint as domain_reporters,
        format(
            '{} still applies the policy first seen {} (mx: {}), although a newer one has been applied since {}.',
            p.reporter, p.version_first_seen, array_to_string(p.sts_mx, ' '), p.newer_first_seen
        ) as detail
    from detect.policy_versions_daily as p
    cross join t
    where p.is_stale
),

everything as (
    select * from failure_rates
    union all by name
    select * from success_drops
    union all by name
    select * from mx_alone
    union all by name
    select * from silences
    union all by name
    select * from stale
)

select
    md5(concat_ws('|', detector, policy_domain, result_type, reporter, receiving_mx, report_date)) as anomaly_id,
    case
        when detector = 'silent_reporter' then 'silent_reporter'
        when detector = 'stale_policy' then 'stale_policy'
        else 'tls_failure'
    end as kind,
    *
from everything
