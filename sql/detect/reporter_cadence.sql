-- grain: one row per reporter, policy_domain and gap between two report days (the last gap runs to the data's end)
-- incremental: gap_end, lookback all
-- reads: detect.reporter_gaps
-- detect.reporter_gaps with each gap's length and verdict. Only the open last gap of a pair runs
-- to the data's end, so only it carries data_through, and it is keyed by 9999-12-31 (gap_end):
-- a build redoes the open gaps and the gaps the new days close, not the million closed ones
-- (rewriting the data's end into every row cost a new day ~0.2 s at 1M reports).
with data_end as (
    -- "Today" is the newest day any reporter has reported, not the clock: a warehouse of old
    -- reports is judged as of its own end, and a stopped fetcher does not make everyone silent.
    select max(last_report_day) as data_through
    from detect.reporter_gaps
    where gap_end = date '9999-12-31'
),

gaps as (
    select
        g.*,
        -- Closed gaps end at their next report; the open one runs past the end of the data.
        case when g.next_report_day is null then e.data_through end as data_through,
        coalesce(g.gap_days, date_diff('day', g.last_report_day, e.data_through + 1)) as days_to_end
    from detect.reporter_gaps as g
    cross join data_end as e
)

select
    reporter,
    policy_domain,
    last_report_day,
    next_report_day,
    gap_end,
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
