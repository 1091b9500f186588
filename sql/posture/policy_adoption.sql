-- grain: one row per domain publishing an MTA-STS policy and reporter applying one for it
-- reads: posture.latest_checks, main.posture_checks, marts.applied_policies
with ids as (
    select
        domain,
        checked_at,
        facts ->> '$.policy_id' as policy_id
    from main.posture_checks
    where check_name = 'sts_txt' and verdict = 'ok'
),

latest_ids as (
    select
        domain,
        arg_max(policy_id, checked_at) as latest_id
    from ids
    group by domain
),

id_since as (
    -- Since when the id published now is seen: its first sighting with no other id after it.
    select
        i.domain,
        i.policy_id,
        min(i.checked_at) as policy_id_since
    from ids as i
    inner join latest_ids as l on i.domain = l.domain and i.policy_id = l.latest_id
    left join ids as o on i.domain = o.domain and i.policy_id <> o.policy_id and i.checked_at < o.checked_at
    where o.domain is null
    group by i.domain, i.policy_id
),

published as (
    select
        p.domain,
        t.facts ->> '$.policy_id' as published_policy_id,
        s.policy_id_since,
        p.facts ->> '$.mode' as published_mode,
        -- The same fingerprint marts.applied_policies gives the policy text a reporter applied.
        md5(array_to_string(list_sort(list_filter(
            list_transform(string_split(replace(p.raw_answer, chr(13), ''), chr(10)), x -> trim(x)), x -> x <> ''
        )), chr(10))) as published_fingerprint
    from posture.latest_checks as p
    left join posture.latest_checks as t on p.domain = t.domain and t.check_name = 'sts_txt' and t.is_current
    left join id_since as s on t.domain = s.domain and (t.facts ->> '$.policy_id') = s.policy_id
    where p.check_name = 'sts_policy' and p.is_current and p.verdict in ('ok', 'warn')
),

applied as (
    -- Only the domains that publish a policy have a row here: the other domains' versions (most
    -- of marts.applied_policies on a corpus few domains of which are checked) are not read.
    select a.* from marts.applied_policies as a
    where a.policy_type = 'sts' and a.policy_domain in (select published.domain from published)
),

per_reporter as (
    select
        policy_domain,
        reporter,
        arg_max(policy_fingerprint, last_day) as latest_fingerprint,
        arg_max(sts_mode, last_day) as latest_mode,
        max(last_day) as last_applied_day
    from applied
    group by policy_domain, reporter
),

matching as (
    -- Since when each reporter applies the published text (its first report with it).
    select
        a.policy_domain,
        a.reporter,
        min(a.first_day) as applying_since
    from applied as a
    inner join published as p on a.policy_domain = p.domain and a.policy_fingerprint = p.published_fingerprint
    group by a.policy_domain, a.reporter
)

select
    p.domain as policy_domain,
    r.reporter,
    p.published_policy_id,
    p.policy_id_since,
    p.published_mode,
    r.latest_mode as applied_mode,
    r.last_applied_day,
    coalesce(r.latest_fingerprint = p.published_fingerprint, false) as applies_published,
    m.applying_since
from published as p
left join per_reporter as r on p.domain = r.policy_domain
left join matching as m on r.policy_domain = m.policy_domain and r.reporter = m.reporter
