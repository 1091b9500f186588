-- grain: one row per reporter, policy_domain and gap between two report days (the last gap runs to the data's end)
-- reads: intermediate.sessions_once_per_report, config.thresholds
with t as (
    select * from config.thresholds
),

report_days as (
    select distinct
        reporter,
        policy_domain,
        report_date
    from intermediate.sessions_once_per_report
),

data_end as (
    -- "Today" is the newest day any reporter has reported, not the clock: a warehouse of old
    -- reports is judged as of its own end, and a stopped fetcher does not make everyone silent.
    select max(report_date) as data_through
    from report_days
),

with_next as (
    select
        r.reporter,
        r.policy_domain,
        r.report_date as last_report_day,
        lead(r.report_date) over w_domain as next_report_day,
        date_diff('day', lag(r.report_date) over w_domain, r.report_date) as gap_before,
        date_diff('day', date '2000-01-01', r.report_date) as day_number
    from report_days as r
    window w_domain as (partition by r.reporter, r.policy_domain order by r.report_date)
),

learned as (
    -- The reporter's usual cadence for this domain as of each report day: how many days it
    -- reported in the learning window, and the longest gap it left (Google: 1; Microsoft, which
    -- reports only on traffic days, more).
    select
        w.*,
        e.data_through,
        t.*,
        count(*) over w_learning as learning_report_days,
        max(w.gap_before) over w_learning as usual_max_gap,
        -- The chance it reports on a given day, by the rule of succession over the days from its
        -- first report in the window to this one: 16 reports in 16 days is 17/18, not certainty.
        (count(*) over w_learning + 1) / (w.day_number - min(w.day_number) over w_learning + 3) as report_day_share
    from with_next as w
    cross join t
    cross join data_end as e
    window w_learning as (
        partition by w.reporter, w.policy_domain order by w.day_number
        range between t.silence_learning_days preceding and current row
    )
),

allowed as (
    select
        *,
        -- The longest gap it has left, or the gap it leaves by chance only with probability
        -- silence_chance ((1 - share)^gap), whichever is longer, plus room for late delivery.
        -- A reporter that reported on every day of its learning window (window plus today) is a
        -- daily sender: the chance rule, built for traffic-day senders, would still allow it 3
        -- days, but two missing days in a row are already news. The whole window, not a shorter
        -- streak: a busy small sender (Mail.ru) can report 38 days in a row, then skip a weekend.
        case
            when learning_report_days > silence_learning_days then 1
            else greatest(
                coalesce(usual_max_gap, 1),
                case when report_day_share < 1 then ceil(ln(silence_chance) / ln(1 - report_day_share)) else 0 end
            )
        end::integer + silence_late_grace_days as allowed_gap_days,
        -- The gap runs to the next report, or (for the last one) past the end of the data.
        date_diff('day', last_report_day, coalesce(next_report_day, data_through + 1)) as gap_days
    from learned
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
    gap_days,
    learning_report_days >= silence_min_report_days and gap_days > allowed_gap_days as is_silent,
    -- The first day the silence was visible: the report due after the allowed gap did not come.
    last_report_day + allowed_gap_days as silent_detectable_on
from allowed
