-- grain: one row per reporter (normalised reporting organisation)
-- reads: staging.reports, main.deliveries
with reports as (
    select
        *,
        count(*) over (partition by reporter, organization_name) as name_count
    from staging.reports
),

deliveries as (
    select
        d.report_key,
        d.outcome,
        d.batch_id
    from main.deliveries as d
    where d.report_key is not null
),

per_reporter as (
    select
        reporter,
        -- The name it uses most; on a tie the first by name, so a rebuild never swaps them.
        first(organization_name order by name_count desc, organization_name asc) as organization_name,
        count(*) as report_count,
        count(distinct report_date) as days_covered,
        min(report_date) as first_day,
        max(report_date) as last_day,
        -- Days between first and last without any report: gaps for a daily sender, and normal
        -- for one that only reports traffic days (Microsoft); the cadence model reads this.
        date_diff('day', min(report_date), max(report_date)) + 1 - count(distinct report_date) as missing_days,
        median(arrival_lag_hours) as median_arrival_lag_hours,
        max(arrival_lag_hours) as max_arrival_lag_hours,
        count(*) filter (where len(conformance_flags) = 0) as clean_report_count,
        count(*) filter (where trust = 'dkim_verified') as dkim_verified_report_count
    from reports
    group by reporter
),

duplicates as (
    -- Counted as settled (pipeline/store/settled_deliveries.py): a copy that lost a race between
    -- two writers stays 'loaded' in main.deliveries but is a duplicate of the copy staging kept.
    select
        r.reporter,
        count(*) as duplicate_deliveries
    from deliveries as d
    inner join reports as r on d.report_key = r.report_key
    where d.outcome = 'duplicate' or (d.outcome = 'loaded' and d.batch_id <> r.batch_id)
    group by r.reporter
),

flag_rows as (
    select
        reporter,
        unnest(conformance_flags) as flag
    from reports
),

flag_counts as (
    select
        reporter,
        flag,
        count(*) as reports
    from flag_rows
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
    p.*,
    coalesce(d.duplicate_deliveries, 0) as duplicate_deliveries,
    coalesce(f.conformance_flags, map()) as conformance_flags,
    -- Conformance score: the share of a reporter's reports that needed no leniency at all.
    round(100.0 * p.clean_report_count / p.report_count, 1) as conformance_score
from per_reporter as p
left join duplicates as d on p.reporter = d.reporter
left join flags as f on p.reporter = f.reporter
