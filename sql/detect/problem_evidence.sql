-- grain: one row per failure or stale-policy episode (detect.problem_episodes): what its failures rest on
-- reads: detect.problem_episodes, detect.problem_owners, intermediate.failure_causes,
--        intermediate.reporter_report_days, marts.daily_domain_sessions
-- Where the failures were, who saw them, the sending network most of them came from, and how
-- many days with data followed the episode.
with episodes as (
    select
        kind,
        subject as problem_domain,
        cause,
        episode,
        first_seen,
        last_seen
    from detect.problem_episodes
    where kind <> 'silent_reporter'
),

episode_days as (
    -- Each day of each episode, so that failures and reporters join on the day by equality: a
    -- range join on the domain alone paired each episode with every row of its domain, all days.
    select
        e.kind,
        e.problem_domain,
        e.cause,
        e.episode,
        e.first_seen + d.day_offset::integer as report_date
    from episodes as e
    cross join unnest(range(e.last_seen - e.first_seen + 1)) as d (day_offset)
),

failures as (
    select
        f.*,
        coalesce(o.owner_domain, f.policy_domain) as problem_domain
    from intermediate.failure_causes as f
    left join detect.problem_owners as o on f.policy_domain = o.policy_domain
),

episode_rows as (
    -- Every failure detail of the episode's domain (and its MX-host policy domains) and cause,
    -- in its days.
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
    from episode_days as e
    inner join failures as f
        on e.problem_domain = f.problem_domain and e.cause = f.cause and e.report_date = f.report_date
),

episode_failures as (
    select
        kind,
        problem_domain,
        cause,
        episode,
        list_sort(list(distinct mx_host) filter (where mx_host is not null)) as mx_hosts,
        list_sort(list(distinct receiving_ip) filter (where receiving_ip is not null)) as receiving_ips,
        list_sort(list(distinct sending_mta_ip) filter (where sending_mta_ip is not null)) as sending_ips,
        list_sort(list(distinct sending_mta_network) filter (
            where sending_mta_network is not null
        )) as sending_networks,
        list_sort(list(distinct reporter)) as failing_reporters,
        list_sort(list(distinct sub_cause) filter (where sub_cause is not null)) as sub_causes,
        list_sort(list(distinct failure_reason_code) filter (
            where failure_reason_code is not null
        ))[1:5] as reason_codes,
        list_sort(list(distinct result_type)) as result_types
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
        list_sort(list(distinct reporter)) as reporters,
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
    -- Everyone who reported the domain during the episode, failing or not: from the report days
    -- (one row per day, reporter and domain), not every report of them (~2x the rows at 1M).
    select
        e.kind,
        e.problem_domain,
        e.cause,
        e.episode,
        count(distinct s.reporter) as domain_reporters
    from episode_days as e
    inner join intermediate.reporter_report_days as s
        on e.problem_domain = s.policy_domain and e.report_date = s.report_date
    group by e.kind, e.problem_domain, e.cause, e.episode
),

domain_dates as (
    -- Each domain's days with data in one list, so an episode counts those after it in its
    -- domain's list instead of a range join pairing it with each later day (~0.04 s CPU at 1M).
    select
        policy_domain,
        list(report_date) as report_dates
    from marts.daily_domain_sessions
    group by policy_domain
),

later_days as (
    -- Days with data after the episode: resolve_after_days of them without the anomaly resolve it.
    select
        e.kind,
        e.problem_domain,
        e.cause,
        e.episode,
        len(list_filter(d.report_dates, x -> x > e.last_seen)) as clean_days_after
    from episodes as e
    left join domain_dates as d on e.problem_domain = d.policy_domain
)

select
    e.kind,
    e.problem_domain,
    e.cause,
    e.episode,
    f.mx_hosts,
    f.receiving_ips,
    f.sending_ips,
    f.sending_networks,
    f.failing_reporters,
    f.sub_causes,
    f.reason_codes,
    f.result_types,
    n.network,
    n.network_reporters,
    n.network_sending_ips,
    n.network_share,
    ns.min_known_networks,
    r.domain_reporters,
    coalesce(l.clean_days_after, 0) as clean_days_after
from episodes as e
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
