-- grain: one row per problem a person acts on: a domain's anomalies of one cause in one episode
-- (a reporter's silences: one problem per reporter and episode)
-- reads: detect.anomalies, intermediate.failure_causes, intermediate.sessions_once_per_report,
--        intermediate.domain_mx, marts.daily_domain_sessions, config.causes, config.thresholds
with t as (
    select * from config.thresholds
),

data_end as (
    select max(report_date) as data_through
    from marts.daily_domain_sessions
),

owners as (
    -- DANE reports may be filed under an MX host as policy domain (DOMAIN.md 8.7): their
    -- problems belong to the domain(s) that MX serves, beside that domain's own reports.
    select
        mx_name as policy_domain,
        min(policy_domain) as owner_domain,
        list(distinct policy_domain order by policy_domain) as owner_domains
    from intermediate.domain_mx
    where
        mx_name <> policy_domain and policy_domain <> '(unknown)'
        and mx_name in (select distinct m.policy_domain from marts.daily_domain_sessions as m)
    group by mx_name
),

anomalies as (
    select
        a.*,
        coalesce(o.owner_domain, a.policy_domain) as problem_domain
    from detect.anomalies as a
    left join owners as o on a.policy_domain = o.policy_domain
),

failures as (
    select
        f.*,
        coalesce(o.owner_domain, f.policy_domain) as problem_domain
    from intermediate.failure_causes as f
    left join owners as o on f.policy_domain = o.policy_domain
),

day_rows as (
    -- One row per domain, cause and day: a day flagged by several detectors is one day.
    select
        kind,
        problem_domain,
        cause,
        report_date,
        min(detected_on) as detected_on,
        count(*) as anomaly_count,
        list(anomaly_id order by anomaly_id) as anomaly_ids,
        list(distinct policy_domain order by policy_domain) as policy_domains,
        list(distinct reporter order by reporter) filter (where reporter is not null) as reporters,
        coalesce(
            sum(failed_sessions) filter (where metric = 'failure_rate'),
            max(failed_sessions)
        ) as failed_sessions,
        max(case
            when metric = 'failure_rate' then observed
            when metric = 'success_rate' then 1 - observed
        end) as failure_rate
    from anomalies
    where kind in ('tls_failure', 'stale_policy')
    group by kind, problem_domain, cause, report_date
),

numbered as (
    -- A recurrence within resolve_after_days continues the problem; a later one is a new problem.
    select
        d.*,
        sum(case when d.gap is null or d.gap > t.resolve_after_days then 1 else 0 end) over (
            partition by d.kind, d.problem_domain, d.cause order by d.report_date
        ) as episode
    from (
        select
            *,
            date_diff(
                'day',
                lag(report_date) over (partition by kind, problem_domain, cause order by report_date),
                report_date
            ) as gap
        from day_rows
    ) as d
    cross join t
),

episodes as (
    select
        kind,
        problem_domain,
        cause,
        episode,
        min(report_date) as first_seen,
        max(report_date) as last_seen,
        min(detected_on) as detected_on,
        sum(anomaly_count)::integer as anomaly_count,
        flatten(list(anomaly_ids order by report_date)) as anomaly_ids,
        list_sort(list_distinct(flatten(list(policy_domains)))) as policy_domains,
        list_sort(list_distinct(flatten(list(reporters)))) as anomaly_reporters,
        sum(failed_sessions)::bigint as sessions_affected,
        max(failure_rate) as peak_failure_rate
    from numbered
    group by kind, problem_domain, cause, episode
),

episode_rows as (
    -- Every failure detail of the episode's domain (and its MX-host policy domains) and cause,
    -- in its days: where the failures were and who saw them.
    select
        e.kind,
        e.problem_domain,
        e.cause,
        e.episode,
        f.mx_host,
        f.receiving_ip,
        f.sending_mta_ip,
        f.sending_mta_network,
        f.reporter,
        f.sub_cause,
        f.failure_reason_code,
        f.result_type,
        f.failed_session_count
    from episodes as e
    inner join failures as f
        on
            e.problem_domain = f.problem_domain and e.cause = f.cause
            and f.report_date between e.first_seen and e.last_seen
),

episode_failures as (
    select
        kind,
        problem_domain,
        cause,
        episode,
        list(distinct mx_host order by mx_host) filter (where mx_host is not null) as mx_hosts,
        list(distinct receiving_ip order by receiving_ip) filter (where receiving_ip is not null) as receiving_ips,
        list(distinct sending_mta_ip order by sending_mta_ip) filter (where sending_mta_ip is not null) as sending_ips,
        list(distinct sending_mta_network order by sending_mta_network) filter (
            where sending_mta_network is not null
        ) as sending_networks,
        list(distinct reporter order by reporter) as failing_reporters,
        list(distinct sub_cause order by sub_cause) filter (where sub_cause is not null) as sub_causes,
        list(distinct failure_reason_code order by failure_reason_code) filter (
            where failure_reason_code is not null
        )[1:5] as reason_codes,
        list(distinct result_type order by result_type) as result_types
    from episode_rows
    group by kind, problem_domain, cause, episode
),

network_sessions as (
    select
        kind,
        problem_domain,
        cause,
        episode,
        sending_mta_network,
        sum(failed_session_count) as failed,
        list(distinct reporter order by reporter) as reporters,
        count(distinct sending_mta_ip) as sending_ips
    from episode_rows
    group by kind, problem_domain, cause, episode, sending_mta_network
),

top_network as (
    select
        kind,
        problem_domain,
        cause,
        episode,
        -- The network with the most failed sessions; on a tie the first by name.
        first(sending_mta_network order by failed desc, sending_mta_network asc) as network,
        first(reporters order by failed desc, sending_mta_network asc) as network_reporters,
        first(sending_ips order by failed desc, sending_mta_network asc) as network_sending_ips,
        max(failed) / nullif(sum(failed), 0) as network_share
    from network_sessions
    group by kind, problem_domain, cause, episode
),

reporter_networks as (
    -- How many sending networks each reporter is known to send from (in any failure detail).
    select
        reporter,
        count(distinct sending_mta_network) as known_networks
    from intermediate.failure_causes
    where sending_mta_network is not null
    group by reporter
),

network_senders as (
    select
        n.kind,
        n.problem_domain,
        n.cause,
        n.episode,
        min(coalesce(k.known_networks, 1)) as min_known_networks
    from top_network as n
    cross join unnest(n.network_reporters) as u (reporter)
    left join reporter_networks as k on u.reporter = k.reporter
    group by n.kind, n.problem_domain, n.cause, n.episode
),

episode_reporters as (
    -- Everyone who reported the domain during the episode, failing or not.
    select
        e.kind,
        e.problem_domain,
        e.cause,
        e.episode,
        count(distinct s.reporter) as domain_reporters
    from episodes as e
    inner join intermediate.sessions_once_per_report as s
        on e.problem_domain = s.policy_domain and s.report_date between e.first_seen and e.last_seen
    group by e.kind, e.problem_domain, e.cause, e.episode
),

later_days as (
    -- Days with data after the episode: resolve_after_days of them without the anomaly resolve it.
    select
        e.kind,
        e.problem_domain,
        e.cause,
        e.episode,
        count(d.report_date) as clean_days_after
    from episodes as e
    left join marts.daily_domain_sessions as d
        on e.problem_domain = d.policy_domain and e.last_seen < d.report_date
    group by e.kind, e.problem_domain, e.cause, e.episode
),

domain_problems as (
    select
        e.kind,
        e.problem_domain as policy_domain,
        -- STARTTLS missing almost only for one sending network, while other paths saw TLS, is
        -- a downgrade on that path, not a missing STARTTLS on the MX. "Other paths": other
        -- reporters of the domain, or several hosts of that one network failing while the same
        -- senders also send from other networks (one failing host alone proves nothing).
        case
            when
                e.cause = 'starttls_missing'
                and n.network_share >= t.stripped_network_share
                and (
                    len(n.network_reporters) < r.domain_reporters
                    or (ns.min_known_networks >= 2 and n.network_sending_ips >= 2)
                )
                then 'starttls_stripped'
            else e.cause
        end as cause,
        e.episode,
        e.first_seen,
        e.last_seen,
        e.detected_on,
        e.anomaly_count,
        e.anomaly_ids,
        list_sort(list_distinct(list_concat([e.problem_domain], coalesce(o.owner_domains, [])))) as affected_domains,
        -- MX hosts that were policy domains themselves (DANE host reports) count as affected MX.
        list_sort(list_distinct(list_concat(
            coalesce(f.mx_hosts, []), list_filter(e.policy_domains, pd -> pd <> e.problem_domain)
        ))) as affected_mx_hosts,
        coalesce(f.receiving_ips, []) as affected_ips,
        coalesce(f.sending_ips, []) as affected_sending_ips,
        case
            when e.cause = 'starttls_missing' and n.network_share >= t.stripped_network_share then [n.network]
            else coalesce(f.sending_networks, [])
        end as affected_sending_networks,
        list_sort(list_distinct(list_concat(coalesce(f.failing_reporters, []), e.anomaly_reporters)))
            as affected_reporters,
        coalesce(f.sub_causes, []) as sub_causes,
        coalesce(f.reason_codes, []) as reason_codes,
        coalesce(f.result_types, []) as result_types,
        e.sessions_affected,
        e.peak_failure_rate,
        coalesce(l.clean_days_after, 0) >= t.resolve_after_days as is_resolved
    from episodes as e
    cross join t
    left join owners as o on e.problem_domain = o.policy_domain
    left join episode_failures as f
        on e.kind = f.kind and e.problem_domain = f.problem_domain and e.cause = f.cause and e.episode = f.episode
    left join top_network as n
        on e.kind = n.kind and e.problem_domain = n.problem_domain and e.cause = n.cause and e.episode = n.episode
    left join episode_reporters as r
        on e.kind = r.kind and e.problem_domain = r.problem_domain and e.cause = r.cause and e.episode = r.episode
    left join network_senders as ns
        on e.kind = ns.kind and e.problem_domain = ns.problem_domain and e.cause = ns.cause and e.episode = ns.episode
    left join later_days as l
        on e.kind = l.kind and e.problem_domain = l.problem_domain and e.cause = l.cause and e.episode = l.episode
),

silence_rows as (
    select
        a.reporter,
        a.policy_domain,
        a.anomaly_id,
        a.report_date as silent_from,
        a.detected_on,
        -- The silence runs to the day before the next report, or to the end of the data.
        least(a.report_date + a.observed::integer - 2, e.data_through) as silent_to,
        a.report_date + a.observed::integer - 1 > e.data_through as still_silent
    from detect.anomalies as a
    cross join data_end as e
    where a.kind = 'silent_reporter'
),

silence_numbered as (
    -- One reporter falling silent for many domains at once is one problem (its reports stopped
    -- reaching us), not one per domain.
    select
        s.*,
        sum(case when s.gap is null or s.gap > t.resolve_after_days then 1 else 0 end) over (
            partition by s.reporter order by s.silent_from
        ) as episode
    from (
        select
            *,
            date_diff('day', lag(silent_from) over (partition by reporter order by silent_from), silent_from) as gap
        from silence_rows
    ) as s
    cross join t
),

silence_problems as (
    select
        'silent_reporter' as kind,
        case when count(distinct policy_domain) = 1 then min(policy_domain) end as policy_domain,
        'reporter_silent' as cause,
        episode,
        min(silent_from) as first_seen,
        max(silent_to) as last_seen,
        min(detected_on) as detected_on,
        count(*)::integer as anomaly_count,
        list(anomaly_id order by anomaly_id) as anomaly_ids,
        list(distinct policy_domain order by policy_domain) as affected_domains,
        []::varchar[] as affected_mx_hosts,
        []::varchar[] as affected_ips,
        []::varchar[] as affected_sending_ips,
        []::varchar[] as affected_sending_networks,
        [reporter] as affected_reporters,
        []::varchar[] as sub_causes,
        []::varchar[] as reason_codes,
        []::varchar[] as result_types,
        null::bigint as sessions_affected,
        null::double as peak_failure_rate,
        not bool_or(still_silent) as is_resolved
    from silence_numbered
    group by reporter, episode
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
)

select
    md5(
        concat_ws(
            '|', d.kind, coalesce(d.policy_domain, array_to_string(d.affected_reporters, ',')), d.cause, d.first_seen
        )
    )
        as problem_id,
    d.kind,
    d.cause,
    d.cause_title
    || case
        when d.kind = 'silent_reporter' then format(': {}', array_to_string(d.affected_reporters, ', '))
        when len(d.affected_mx_hosts) between 1 and 3 and d.cause not like 'sts_policy%' and d.cause <> 'stale_policy'
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
                        when len(d.sub_causes) > 0 then '; causes named: ' || array_to_string(d.sub_causes, ', ') else
                            ''
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
