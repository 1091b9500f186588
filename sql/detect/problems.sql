-- grain: one row per problem a person acts on: a domain's anomalies of one cause in one episode
-- (a reporter's silences: one problem per reporter and episode)
-- reads: detect.problem_episodes, detect.problem_evidence, detect.problem_owners, marts.daily_domain_sessions,
--        config.causes, config.thresholds, posture.posture_problems, detect.intake_freshness
-- What each episode (detect.problem_episodes) is called, how bad it is and whether it is over,
-- from its evidence (detect.problem_evidence).
with t as (
    select * from config.thresholds
),

data_end as (
    select max(report_date) as data_through
    from marts.daily_domain_sessions
),

domain_problems as (
    select
        e.kind,
        e.subject as policy_domain,
        -- STARTTLS missing almost only for one sending network, while other paths saw TLS, is
        -- a downgrade on that path, not a missing STARTTLS on the MX. "Other paths": other
        -- reporters of the domain, or several hosts of that one network failing while the same
        -- senders also send from other networks (one failing host alone proves nothing).
        case
            when
                e.cause = 'starttls_missing'
                and v.network_share >= t.stripped_network_share
                and (
                    len(v.network_reporters) < v.domain_reporters
                    or (v.min_known_networks >= 2 and v.network_sending_ips >= 2)
                )
                then 'starttls_stripped'
            else e.cause
        end as cause,
        e.episode,
        e.first_seen,
        e.last_seen,
        e.detected_on,
        e.identity_day,
        e.anomaly_count,
        e.anomaly_ids,
        list_sort(list_distinct(list_concat([e.subject], coalesce(o.owner_domains, [])))) as affected_domains,
        -- MX hosts that were policy domains themselves (DANE host reports) count as affected MX.
        list_sort(list_distinct(list_concat(
            coalesce(v.mx_hosts, []), list_filter(e.policy_domains, pd -> pd <> e.subject)
        ))) as affected_mx_hosts,
        coalesce(v.receiving_ips, []) as affected_ips,
        coalesce(v.sending_ips, []) as affected_sending_ips,
        case
            when e.cause = 'starttls_missing' and v.network_share >= t.stripped_network_share then [v.network]
            else coalesce(v.sending_networks, [])
        end as affected_sending_networks,
        list_sort(list_distinct(list_concat(coalesce(v.failing_reporters, []), e.anomaly_reporters)))
            as affected_reporters,
        coalesce(v.sub_causes, []) as sub_causes,
        coalesce(v.reason_codes, []) as reason_codes,
        coalesce(v.result_types, []) as result_types,
        e.sessions_affected,
        e.peak_failure_rate,
        -- resolve_after_days days with data and without the anomaly resolve it.
        v.clean_days_after >= t.resolve_after_days as is_resolved
    from detect.problem_episodes as e
    cross join t
    inner join detect.problem_evidence as v
        on e.kind = v.kind and e.subject = v.problem_domain and e.cause = v.cause and e.episode = v.episode
    left join detect.problem_owners as o on e.subject = o.policy_domain
),

silence_problems as (
    select
        kind,
        case when len(policy_domains) = 1 then policy_domains[1] end as policy_domain,
        cause,
        episode,
        first_seen,
        last_seen,
        detected_on,
        identity_day,
        anomaly_count,
        anomaly_ids,
        policy_domains as affected_domains,
        []::varchar[] as affected_mx_hosts,
        []::varchar[] as affected_ips,
        []::varchar[] as affected_sending_ips,
        []::varchar[] as affected_sending_networks,
        [subject] as affected_reporters,
        []::varchar[] as sub_causes,
        []::varchar[] as reason_codes,
        []::varchar[] as result_types,
        null::bigint as sessions_affected,
        null::double as peak_failure_rate,
        not still_silent as is_resolved
    from detect.problem_episodes
    where kind = 'silent_reporter'
),

together as (
    select * from domain_problems
    union all by name
    select * from silence_problems
),

described as (
    select
        p.*,
        c.title as cause_title,
        replace(c.diagnosis, '<domain>', coalesce(p.policy_domain, 'your domain')) as cause_diagnosis,
        replace(c.fix, '<domain>', coalesce(p.policy_domain, 'your domain')) as cause_fix,
        case
            when p.kind = 'stale_policy' then 'info'
            when p.kind = 'silent_reporter' then 'warning'
            when p.cause = 'starttls_stripped' or p.peak_failure_rate >= t.critical_failure_rate then 'critical'
            else 'warning'
        end as severity
    from together as p
    cross join t
    left join config.causes as c on p.cause = c.cause
),

from_anomalies as (
    select
        md5(
            concat_ws(
                '|', d.kind, coalesce(d.policy_domain, array_to_string(d.affected_reporters, ',')), d.cause,
                d.identity_day
            )
        )
            as problem_id,
        d.kind,
        d.cause,
        d.cause_title
        || case
            when d.kind = 'silent_reporter' then format(': {}', array_to_string(d.affected_reporters, ', '))
            when
                len(d.affected_mx_hosts) between 1 and 3
                and d.cause not like 'sts_policy%' and d.cause <> 'stale_policy'
                then format(' on {}', array_to_string(d.affected_mx_hosts, ', '))
            else ''
        end
        || case
            when d.policy_domain is not null then format(' ({})', d.policy_domain)
            else format(' ({} domains)', len(d.affected_domains))
        end as title,
        d.policy_domain,
        d.affected_domains,
        case when d.is_resolved then 'resolved' else 'open' end as status,
        case when d.is_resolved then d.last_seen + 1 end as resolved_on,
        d.severity,
        case d.severity when 'critical' then 3 when 'warning' then 2 else 1 end as severity_rank,
        d.first_seen,
        d.last_seen,
        d.detected_on,
        d.affected_mx_hosts,
        d.affected_ips,
        d.affected_sending_ips,
        d.affected_sending_networks,
        d.affected_reporters,
        d.result_types,
        d.sub_causes,
        d.reason_codes,
        d.sessions_affected,
        d.peak_failure_rate,
        d.cause_diagnosis
        || case
            when d.kind = 'tls_failure'
                then
                    format(
                        ' {} failed sessions from {} reporter(s) between {} and {}{}{}.',
                        d.sessions_affected, len(d.affected_reporters), d.first_seen, d.last_seen,
                        case
                            when len(d.sub_causes) > 0
                                then '; causes named: ' || array_to_string(d.sub_causes, ', ')
                            else ''
                        end,
                        case
                            when d.cause = 'starttls_stripped'
                                then '; only from ' || array_to_string(d.affected_sending_networks, ', ')
                            else ''
                        end
                    )
            when d.kind = 'silent_reporter'
                then
                    format(
                        ' No report since {} for {}.', d.first_seen, array_to_string(d.affected_domains, ', ')
                    )
            else format(' Seen from {} to {}.', d.first_seen, d.last_seen)
        end as diagnosis,
        d.cause_fix as fix,
        d.anomaly_count,
        d.anomaly_ids,
        e.data_through
    from described as d
    cross join data_end as e
),

-- An intake that stopped (detect.intake_freshness): one problem, whichever domains, until a
-- report arrives again; its id rests on the last arrival day, which only a new arrival moves.
intake as (
    select
        md5(concat_ws('|', 'intake_stale', f.last_arrival_day)) as problem_id,
        'intake_stale' as kind,
        'intake_stale' as cause,
        format('{} since {}', c.title, f.last_arrival_day) as title,
        null::varchar as policy_domain,
        []::varchar[] as affected_domains,
        'open' as status,
        null::date as resolved_on,
        'critical' as severity,
        3 as severity_rank,
        f.last_arrival_day + 1 as first_seen,
        f.today as last_seen,
        f.last_arrival_day + f.allowed_gap_days + 1 as detected_on,
        []::varchar[] as affected_mx_hosts,
        []::varchar[] as affected_ips,
        []::varchar[] as affected_sending_ips,
        []::varchar[] as affected_sending_networks,
        []::varchar[] as affected_reporters,
        []::varchar[] as result_types,
        []::varchar[] as sub_causes,
        []::varchar[] as reason_codes,
        []::varchar[] as anomaly_ids,
        format(
            'Nothing arrived since {}: check the mailbox, the receiver, the schedule. {} '
            || 'Usual longest pause: {} day(s).',
            f.last_arrival_day, c.diagnosis, f.usual_max_gap
        ) as diagnosis,
        c.fix,
        0 as anomaly_count,
        e.data_through
    from detect.intake_freshness as f
    cross join data_end as e
    left join config.causes as c on c.cause = 'intake_stale'
    where f.is_stale
),

-- What the posture checks found now (an MX certificate about to expire, a policy file gone...):
-- the same columns, so they share the dashboard, the status and the alert path.
with_posture as (
    select * from from_anomalies
    union all by name
    select * from posture.posture_problems
    union all by name
    select * from intake
)

-- Both parts have the columns of detect.problems (docs/alerts.md lists them), by name.
select * from with_posture  -- noqa: AM04
