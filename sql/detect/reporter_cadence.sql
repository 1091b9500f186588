-- grain: one row per reporter, policy_domain and gap between two report days (the last gap runs to the data's end)
-- reads: detect.reporter_gaps
-- Rebuilt in full, as every row carries the data's end, but only as a projection of the
-- incremental detect.reporter_gaps (which learns the cadence: detect.reporter_learning): no
-- window over the history.
with data_end as (
    -- "Today" is the newest day any reporter has reported, not the clock: a warehouse of old
    -- reports is judged as of its own end, and a stopped fetcher does not make everyone silent.
    select max(last_report_day) as data_through
    from detect.reporter_gaps
),

gaps as (
    select
        g.*,
        e.data_through,
        -- The gap runs to the next report, or (for the last one) past the end of the data.
        coalesce(g.gap_days, date_diff('day', g.last_report_day, e.data_through + 1)) as days_to_end
    from detect.reporter_gaps as g
    cross join data_end as e
)

select
    reporter,
    policy_domain,
    last_report_day,
    next_report_day,
    data_through,
    learning_report_days,
    usual_max_gap,
    report_day_share,
    allowed_gap_days,
    days_to_end as gap_days,
    is_learnt and days_to_end > allowed_gap_days as is_silent,
    -- The first day the silence was visible: the report due after the allowed gap did not come.
    last_report_day + allowed_gap_days as silent_detectable_on
from gaps
