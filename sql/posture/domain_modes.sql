-- grain: one row per policy domain with an MTA-STS policy: its mode now (published, else as last applied)
-- reads: posture.sts_domain_days, posture.domain_posture
with applied as (
    -- From the domain's days, not its policy rows: a day without a mode (reports gave '-') keeps
    -- the mode of the last day that had one.
    select
        policy_domain,
        arg_max(applied_mode, report_date) as applied_mode,
        max(report_date) as last_report_date
    from posture.sts_domain_days
    group by policy_domain
),

published as (
    select
        domain as policy_domain,
        published_mode,
        checked_at
    from posture.domain_posture
    where published_mode is not null
)

select
    coalesce(p.policy_domain, a.policy_domain) as policy_domain,
    -- What the domain publishes now wins over what reporters applied days ago.
    coalesce(p.published_mode, a.applied_mode) as sts_mode,
    case when p.published_mode is not null then 'published' else 'reports' end as mode_source,
    a.applied_mode,
    p.published_mode,
    a.last_report_date,
    p.checked_at
from applied as a
full outer join published as p on a.policy_domain = p.policy_domain
