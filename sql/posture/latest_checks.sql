-- grain: one row per domain, check_name and target: its latest result, and since when that verdict holds
-- reads: main.posture_checks
with checks as (
    select * from main.posture_checks
),

latest as (
    select
        domain,
        check_name,
        target,
        arg_max(run_id, checked_at) as run_id,
        max(checked_at) as checked_at,
        arg_max(verdict, checked_at) as verdict,
        arg_max(reason, checked_at) as reason,
        arg_max(detail, checked_at) as detail,
        arg_max(facts, checked_at) as facts,
        arg_max(raw_answer, checked_at) as raw_answer,
        count(*) as check_count
    from checks
    group by domain, check_name, target
),

changes as (
    -- The last time each check said something else than it says now.
    select
        x.domain,
        x.check_name,
        x.target,
        max(x.checked_at) as changed_at
    from checks as x
    inner join latest as y
        on x.domain = y.domain and x.check_name = y.check_name and x.target = y.target and x.verdict <> y.verdict
    group by x.domain, x.check_name, x.target
),

last_change as (
    -- The current verdict holds since the first check after that change.
    select
        l.domain,
        l.check_name,
        l.target,
        min(c.checked_at) filter (
            where c.checked_at > coalesce(o.changed_at, '-infinity'::timestamptz)
        ) as verdict_since
    from latest as l
    inner join checks as c on l.domain = c.domain and l.check_name = c.check_name and l.target = c.target
    left join changes as o on l.domain = o.domain and l.check_name = o.check_name and l.target = o.target
    group by l.domain, l.check_name, l.target
),

domain_runs as (
    select
        domain,
        arg_max(run_id, checked_at) as last_run_id
    from checks
    group by domain
)

select
    l.*,
    s.verdict_since,
    -- A target the last run did not check any more (an MX that was removed) is history, not posture.
    l.run_id = r.last_run_id as is_current
from latest as l
inner join last_change as s on l.domain = s.domain and l.check_name = s.check_name and l.target = s.target
inner join domain_runs as r on l.domain = r.domain
