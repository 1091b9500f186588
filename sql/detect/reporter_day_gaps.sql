-- grain: one row per reporter, policy_domain and report day: the days since its previous report day
-- incremental: report_date, lookback all
-- reads: intermediate.reporter_report_days
-- A day's gap rests on every day before it (a pause can last months), hence `lookback all`: a
-- late report redoes the days after it. The previous day is looked up, not found by a window
-- over each pair's whole history (a window cannot be cut to the days a build redoes): first
-- among the week before, by equality on each of those days (the join then reads only the
-- files of that week), then, for the few days without a report that week, among all before.
with week_offsets as (
    -- A table of its own, not unnest() per row: the build's date filter reaches the scan of d.
    select unnest(range(1, 8)) as days_back
),

week_before as (
    -- Each of the seven days before a report day, a column of its own: an equality the join
    -- hashes on (as the difference of two inputs' columns the planner may join on the pair
    -- alone and filter millions of rows after).
    select
        d.reporter,
        d.policy_domain,
        d.report_date,
        d.report_date - b.days_back::integer as earlier_day
    from intermediate.reporter_report_days as d
    cross join week_offsets as b
),

-- Read twice below: not materialized, so the build's date filter reaches it in each place
-- (a materialized CTE is computed for every day, which cost most of a day's build).
recent as not materialized (  -- noqa: LT01
    select
        d.reporter,
        d.policy_domain,
        d.report_date,
        max(p.report_date) as previous_report_day
    from week_before as d
    left join intermediate.reporter_report_days as p
        on d.reporter = p.reporter and d.policy_domain = p.policy_domain and d.earlier_day = p.report_date
    group by d.reporter, d.policy_domain, d.report_date
),

earlier as (
    select
        r.reporter,
        r.policy_domain,
        r.report_date,
        max(p.report_date) as previous_report_day
    from recent as r
    inner join intermediate.reporter_report_days as p
        on
            r.reporter = p.reporter
            and r.policy_domain = p.policy_domain
            and p.report_date < r.report_date - 7
    where r.previous_report_day is null
    group by r.reporter, r.policy_domain, r.report_date
),

previous as (
    select
        r.reporter,
        r.policy_domain,
        r.report_date,
        coalesce(r.previous_report_day, e.previous_report_day) as previous_report_day
    from recent as r
    left join earlier as e
        on r.reporter = e.reporter and r.policy_domain = e.policy_domain and r.report_date = e.report_date
)

select
    reporter,
    policy_domain,
    report_date,
    previous_report_day,
    date_diff('day', previous_report_day, report_date) as gap_before
from previous
