-- grain: one row: when the newest report reached us, judged against the day of the build
-- reads: staging.reports, config.clock, config.thresholds
-- Unlike the other detectors, which judge the data as of its own newest day, intake is judged
-- against the clock (config.clock, one day per build, set by the builder): a mailbox that
-- stopped delivering is exactly what the data's own end cannot show.
with t as (
    select * from config.thresholds
),

clock as (
    select today from config.clock
),

arrival_days as (
    -- The UTC day, whatever the session's time zone: epoch milliseconds count from UTC midnight,
    -- so integer days need no time-zone lookup per report (timezone('UTC', ...)::date was most
    -- of this model's cost at 1M reports), and only the distinct days become dates.
    select date '1970-01-01' + arrival_day_number::integer as arrival_day
    from (
        select distinct epoch_ms(received_at) // 86400000 as arrival_day_number
        from staging.reports
        where received_at is not null
    ) as d
),

newest as (
    select max(arrival_day) as last_arrival_day
    from arrival_days
),

gaps as (
    -- The pauses of all reporters together over the learning window before the newest arrival.
    select date_diff('day', lag(a.arrival_day) over (order by a.arrival_day), a.arrival_day) as gap_days
    from arrival_days as a
    cross join newest as n
    cross join t
    where a.arrival_day >= n.last_arrival_day - t.silence_learning_days
),

cadence as (
    select
        count(*) as arrival_day_count,
        coalesce(max(gap_days), 1) as usual_max_gap
    from gaps
),

judged as (
    select
        n.last_arrival_day,
        c.today,
        k.arrival_day_count,
        k.usual_max_gap,
        (k.usual_max_gap + t.silence_late_grace_days)::integer as allowed_gap_days,
        date_diff('day', n.last_arrival_day, c.today) as days_since_arrival,
        -- Judged once the intake has a cadence, and only while its newest report is recent:
        -- months-old data is an archive (an import, the demo, the test corpora), not a feed.
        k.arrival_day_count >= t.silence_min_report_days
        and date_diff('day', n.last_arrival_day, c.today) > k.usual_max_gap + t.silence_late_grace_days
        and date_diff('day', n.last_arrival_day, c.today) <= t.intake_archive_days as is_stale
    from newest as n
    cross join clock as c
    cross join cadence as k
    cross join t
)

select * from judged
