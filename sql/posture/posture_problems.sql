-- grain: one row per posture problem episode (domain, check, target, cause), in the columns of marts.problems
-- reads: posture.problem_episodes, main.posture_checks, config.causes
with newest as (
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
from posture.problem_episodes as e
cross join newest as n
left join config.causes as c on e.cause = c.cause
