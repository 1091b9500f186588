-- grain: one row per reporter, policy_domain and gap between two report days, the last one open (no next day yet)
-- incremental: gap_end, lookback all
-- reads: detect.reporter_day_gaps, detect.reporter_learning, intermediate.reporter_report_days, config.thresholds
-- detect.reporter_cadence without the data's end: each gap with the cadence learnt by the day it
-- began. Keyed by the day it ends (gap_end; the open last gap of each pair by 9999-12-31, so
-- every build redoes those), because a report changes only the gaps that end on or after its
-- day: a late one splits the gap it falls in, the new day closes each pair's open gap.
with t as (
    select * from config.thresholds
),

closed as (
    select
        g.reporter,
        g.policy_domain,
        g.previous_report_day as last_report_day,
        g.report_date as next_report_day,
        g.report_date as gap_end
    from detect.reporter_day_gaps as g
    where g.previous_report_day is not null
),

open_gaps as (
    select
        reporter,
        policy_domain,
        max(report_date) as last_report_day,
        null::date as next_report_day,
        date '9999-12-31' as gap_end
    from intermediate.reporter_report_days
    group by reporter, policy_domain
),

gaps as (
    select * from closed
    union all
    select * from open_gaps
)

select
    g.reporter,
    g.policy_domain,
    g.last_report_day,
    g.next_report_day,
    g.gap_end,
    l.learning_report_days,
    l.usual_max_gap,
    l.report_day_share,
    l.allowed_gap_days,
    -- Closed gaps only: an open one runs to the data's end (detect.reporter_cadence).
    date_diff('day', g.last_report_day, g.next_report_day) as gap_days,
    l.learning_report_days >= t.silence_min_report_days as is_learnt
from gaps as g
inner join detect.reporter_learning as l
    on g.reporter = l.reporter and g.policy_domain = l.policy_domain and g.last_report_day = l.report_date
cross join t
