-- grain: one row per reporter, policy_domain and report day: its cadence as learnt by that day
-- incremental: report_date, lookback silence_learning_days
-- reads: detect.reporter_day_gaps, config.thresholds
-- The reporter's usual cadence for this domain as of each report day: how many days it reported
-- in the learning window, and the longest gap it left (Google: 1; Microsoft, which reports only
-- on traffic days, more). A day rests on the gaps of the learning window's days alone (each gap
-- knows its own previous day, however far back: detect.reporter_day_gaps). They are looked up,
-- not taken by a window function over all history (a build's date filter does not reach into
-- one): by equality on the pair and on each week the window touches, then cut to the window's
-- days, so a build of one day reads that window. By week, not by day: 10 lookups a report day
-- instead of 61 (a day's build 0.39 -> 0.21 s CPU at 1M reports, a full build 27 -> 6 s).
with t as (
    select * from config.thresholds
),

window_weeks as (
    -- The weeks (numbered from 2000-01-01) the learning window of each report day touches.
    select
        d.reporter,
        d.policy_domain,
        d.report_date,
        unnest(range(
            (date_diff('day', date '2000-01-01', d.report_date) - t.silence_learning_days) // 7,
            date_diff('day', date '2000-01-01', d.report_date) // 7 + 1
        )) as week_number
    from detect.reporter_day_gaps as d
    cross join t
),

gap_weeks as (
    select
        w.*,
        date_diff('day', date '2000-01-01', w.report_date) // 7 as week_number
    from detect.reporter_day_gaps as w
),

window_gaps as (
    select
        d.reporter,
        d.policy_domain,
        d.report_date,
        w.report_date as window_day,
        w.gap_before
    from window_weeks as d
    inner join gap_weeks as w
        on
            d.reporter = w.reporter
            and d.policy_domain = w.policy_domain
            and d.week_number = w.week_number
    cross join t
    where w.report_date between d.report_date - t.silence_learning_days and d.report_date
),

learned as (
    select
        reporter,
        policy_domain,
        report_date,
        count(*) as learning_report_days,
        max(gap_before) as usual_max_gap,
        -- The chance it reports on a given day, by the rule of succession over the days from its
        -- first report in the window to this one: 16 reports in 16 days is 17/18, not certainty.
        (count(*) + 1) / (date_diff('day', min(window_day), report_date) + 3) as report_day_share
    from window_gaps
    group by reporter, policy_domain, report_date
)

select
    l.reporter,
    l.policy_domain,
    l.report_date,
    l.learning_report_days,
    l.usual_max_gap,
    l.report_day_share,
    -- The longest gap it has left, or the gap it leaves by chance only with probability
    -- silence_chance ((1 - share)^gap), whichever is longer, plus room for late delivery.
    -- A reporter that reported on every day of its learning window (window plus today) is a
    -- daily sender: the chance rule, built for traffic-day senders, would still allow it 3
    -- days, but two missing days in a row are already news. The whole window, not a shorter
    -- streak: a busy small sender (Mail.ru) can report 38 days in a row, then skip a weekend.
    case
        when l.learning_report_days > t.silence_learning_days then 1
        else greatest(
            coalesce(l.usual_max_gap, 1),
            case
                when l.report_day_share < 1 then ceil(ln(t.silence_chance) / ln(1 - l.report_day_share)) else 0
            end
        )
    end::integer + t.silence_late_grace_days as allowed_gap_days
from learned as l
cross join t
