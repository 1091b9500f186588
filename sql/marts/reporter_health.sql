-- grain: one row per reporter (normalised reporting organisation)
-- reads: intermediate.reporter_reports_daily, staging.reports, staging.report_copies, main.deliveries
-- Merged from the per-day counts (intermediate.reporter_reports_daily, incremental): a new day
-- costs its own reports, not a pass over every report of all time.
with daily as (
    select * from intermediate.reporter_reports_daily
),

names as (
    select
        reporter,
        organization_name,
        sum(report_count) as name_count
    from daily
    group by reporter, organization_name
),

usual_names as (
    select
        reporter,
        -- The name it uses most; on a tie the first by name, so a rebuild never swaps them.
        first(organization_name order by name_count desc, organization_name asc) as organization_name
    from names
    group by reporter
),

lags as (
    select
        reporter,
        arrival_lag_hours,
        sum(report_count) as reports,
        sum(sum(report_count)) over (partition by reporter order by arrival_lag_hours) - sum(report_count)
            as first_position,
        sum(sum(report_count)) over (partition by reporter) as lag_count
    from daily
    where arrival_lag_hours is not null
    group by reporter, arrival_lag_hours
),

lag_medians as (
    -- median() as DuckDB computes it over every report (quantile_cont(0.5)): the values at the
    -- middle positions floor and ceil of (n - 1) / 2 of the sorted lags, lo + (hi - lo) * 0.5;
    -- each value's reports fill the positions from its first_position on.
    select
        reporter,
        max(arrival_lag_hours) filter (where first_position <= floor((lag_count - 1) / 2)) as lo,
        max(arrival_lag_hours) filter (where first_position <= ceil((lag_count - 1) / 2)) as hi,
        max(arrival_lag_hours) as max_arrival_lag_hours
    from lags
    group by reporter
),

per_reporter as (
    select
        d.reporter,
        sum(d.report_count)::bigint as report_count,
        count(distinct d.report_date) as days_covered,
        min(d.report_date) as first_day,
        max(d.report_date) as last_day,
        -- Days between first and last without any report: gaps for a daily sender, and normal
        -- for one that only reports traffic days (Microsoft); the cadence model reads this.
        date_diff('day', min(d.report_date), max(d.report_date)) + 1 - count(distinct d.report_date) as missing_days,
        (sum(d.report_count) filter (where len(d.conformance_flags) = 0))::bigint as clean_report_count,
        sum(d.dkim_verified_report_count)::bigint as dkim_verified_report_count
    from daily as d
    group by d.reporter
),

duplicates as (
    -- Counted as settled (pipeline/store/settled_deliveries.py): a copy that lost a race between
    -- two writers stays 'loaded' in main.deliveries but is a duplicate of the copy staging kept.
    -- Such a key has several copies (staging.report_copies), so only those keys' deliveries and
    -- the ones refused as duplicates are looked up (joining every delivery cost ~0.5 s at 1M).
    select
        r.reporter,
        count(*) as duplicate_deliveries
    from (
        select
            report_key,
            batch_id,
            true as refused
        from main.deliveries
        where outcome = 'duplicate'
        union all
        -- Apart from the refused ones, not as one OR: an OR of the key's lookup reads every
        -- delivery's key, this reads only the outcome column but for the few keys with copies.
        select
            report_key,
            batch_id,
            false as refused
        from main.deliveries
        where outcome = 'loaded' and report_key in (select c.report_key from staging.report_copies as c)
    ) as d
    inner join staging.reports as r on d.report_key = r.report_key
    where d.refused or d.batch_id <> r.batch_id
    group by r.reporter
),

flag_counts as (
    select
        reporter,
        flag,
        sum(report_count)::bigint as reports
    from (
        select
            reporter,
            report_count,
            unnest(conformance_flags) as flag
        from daily
    ) as f
    group by reporter, flag
),

flags as (
    select
        reporter,
        map(list(flag order by flag), list(reports order by flag)) as conformance_flags
    from flag_counts
    group by reporter
)

select
    p.reporter,
    n.organization_name,
    p.report_count,
    p.days_covered,
    p.first_day,
    p.last_day,
    p.missing_days,
    m.lo + (m.hi - m.lo) * 0.5 as median_arrival_lag_hours,
    m.max_arrival_lag_hours,
    coalesce(p.clean_report_count, 0) as clean_report_count,
    p.dkim_verified_report_count,
    coalesce(d.duplicate_deliveries, 0) as duplicate_deliveries,
    coalesce(f.conformance_flags, map()) as conformance_flags,
    -- Conformance score: the share of a reporter's reports that needed no leniency at all.
    round(100.0 * coalesce(p.clean_report_count, 0) / p.report_count, 1) as conformance_score
from per_reporter as p
inner join usual_names as n on p.reporter = n.reporter
left join lag_medians as m on p.reporter = m.reporter
left join duplicates as d on p.reporter = d.reporter
left join flags as f on p.reporter = f.reporter
