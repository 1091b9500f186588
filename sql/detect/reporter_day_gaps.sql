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

-- Read twice below and materialized, so the week's lookups run once: DuckDB 1.5 pushes the
-- date filter its readers share into it (the build's, through the joins on report_date).
recent as materialized (  -- noqa: LT01
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
    -- A correlated lookup, not a join of recent with every report day: the planner then hashes
    -- the few days without a report that week; as a join it hashed all report days (the CTE's
    -- row estimate is the whole table's), 0.8 s at 1M reports.
    select
        r.reporter,
        r.policy_domain,
        r.report_date,
        (
            select max(p.report_date)
            from intermediate.reporter_report_days as p
            where
                p.reporter = r.reporter
                and p.policy_domain = r.policy_domain
                and p.report_date < r.report_date - 7
        ) as previous_report_day
    from recent as r
    where r.previous_report_day is null
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
