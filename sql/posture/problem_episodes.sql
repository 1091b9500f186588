-- grain: one row per episode of failing results of one check and target (domain, check_name, target, episode)
-- reads: main.posture_checks
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
)

select * from ended
