-- grain: one row per posture problem episode (domain, check, target, cause), in the columns of marts.problems
-- reads: main.posture_checks, config.causes
with checks as (
    select
        *,
        case
            when check_name = 'mx_certificate' and reason = 'certificate_expiring' then 'certificate_expiring'
            when check_name = 'mx_certificate' and reason = 'certificate_expired' then 'certificate_expired'
            when check_name = 'mx_certificate' and reason = 'certificate_name_mismatch' then 'certificate_host_mismatch'
            when check_name = 'mx_certificate' then 'certificate_untrusted'
            when check_name = 'starttls' and verdict = 'fail' then 'starttls_missing'
            when check_name = 'sts_policy' and (reason like 'certificate%' or reason in (
                'unreachable', 'timeout', 'tls_error', 'http_status', 'redirect', 'wrong_content_type'
            )) then 'sts_policy_fetch_failed'
            when check_name = 'sts_policy' then 'sts_policy_invalid'
            when check_name = 'tlsrpt_txt' then 'tlsrpt_record_broken'
            when check_name = 'sts_txt' then 'sts_record_broken'
            when check_name = 'mx_coverage' then 'mx_not_in_policy'
            when check_name = 'tlsa' then 'tlsa_mismatch'
        end as cause,
        -- A failure, or a certificate about to expire; "error" (could not tell) is never a problem.
        verdict = 'fail' or (verdict = 'warn' and reason = 'certificate_expiring') as is_problem
    from main.posture_checks
    where check_name <> 'run'
),

streaks as (
    -- Consecutive problem results of one check are one episode; a passing check ends it.
    select
        *,
        sum(case when is_problem then 0 else 1 end) over (
            partition by domain, check_name, target order by checked_at
        ) as episode
    from checks
),

episodes as (
    select
        domain,
        check_name,
        target,
        episode,
        arg_min(cause, checked_at) filter (where is_problem) as cause,
        min(checked_at) filter (where is_problem) as first_at,
        max(checked_at) filter (where is_problem) as last_at,
        arg_max(detail, checked_at) filter (where is_problem) as detail,
        arg_max(reason, checked_at) filter (where is_problem) as reason,
        count(*) filter (where is_problem) as failing_checks
    from streaks
    group by domain, check_name, target, episode
    having count(*) filter (where is_problem) > 0
),

ended as (
    -- Resolved by the first passing check after the episode (the next streak starts with it).
    select
        e.*,
        min(s.checked_at) as resolved_at
    from episodes as e
    left join streaks as s
        on
            e.domain = s.domain and e.check_name = s.check_name and e.target = s.target
            and s.episode = e.episode + 1 and not s.is_problem
    group by all
),

newest as (
    select max(checked_at)::date as data_through from main.posture_checks
)

select
    md5(concat_ws('|', 'posture', e.domain, e.check_name, e.target, e.cause, e.first_at)) as problem_id,
    'posture' as kind,
    e.cause,
    coalesce(c.title, replace(e.cause, '_', ' ')) || format(' on {} ({})', e.target, e.domain) as title,
    e.domain as policy_domain,
    [e.domain] as affected_domains,
    case when e.resolved_at is null then 'open' else 'resolved' end as status,
    e.resolved_at::date as resolved_on,
    case when e.cause in ('certificate_expired', 'tlsa_mismatch', 'starttls_missing') then 'critical' else 'warning' end
        as severity,
    case when e.cause in ('certificate_expired', 'tlsa_mismatch', 'starttls_missing') then 3 else 2 end
        as severity_rank,
    e.first_at::date as first_seen,
    e.last_at::date as last_seen,
    e.first_at::date as detected_on,
    case
        when e.check_name in ('mx_certificate', 'starttls', 'tlsa', 'mx_coverage') then [e.target]
        else []::varchar[]
    end as affected_mx_hosts,
    []::varchar[] as affected_ips,
    []::varchar[] as affected_sending_ips,
    []::varchar[] as affected_sending_networks,
    []::varchar[] as affected_reporters,
    []::varchar[] as result_types,
    [e.reason]::varchar[] as sub_causes,
    [e.reason]::varchar[] as reason_codes,
    null::bigint as sessions_affected,
    null::double as peak_failure_rate,
    format(
        'Posture check {} of {}: {} (seen in {} check(s), {} to {}).', e.check_name, e.target, e.detail,
        e.failing_checks, e.first_at::date, e.last_at::date
    ) as diagnosis,
    coalesce(
        replace(c.fix, '<domain>', e.domain),
        case e.cause
            when 'certificate_expiring' then format('Renew the certificate of {} before it expires.', e.target)
            when 'tlsrpt_record_broken' then format('Publish exactly one valid record: tlsrpt setup {}.', e.domain)
            when
                'sts_record_broken'
                then format('Publish exactly one v=STSv1; id=... record: tlsrpt setup {}.', e.domain)
        end
    ) as fix,
    e.failing_checks::integer as anomaly_count,
    []::varchar[] as anomaly_ids,
    n.data_through
from ended as e
cross join newest as n
left join config.causes as c on e.cause = c.cause
