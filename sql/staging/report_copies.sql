-- grain: one row per copy of a report key that main.reports holds more than once (two writers loaded it at once)
-- incremental: report_date, lookback 0 days
-- reads: main.reports
-- Two writers (machines) can both load one report before either commits, and a copy of a key
-- with another date range passes a writer's lookup: the first copy counts, by batch_id, which
-- begins with the batch's ingested_at (docs/architecture.md, "Exactly once across writers"). A
-- key is in one batch at most once. Each copy of the days a build redoes is looked up among all
-- keys (a new copy of an old key touches the old copy's day too: incremental.touched_days), and
-- the few held more than once are kept, each with its key's first batch (so a copy of another
-- date range than the first still names it): staging.reports keeps the first copies, and
-- readers of a build tell the later ones' deliveries as duplicates from here
-- (pipeline/store/settled_deliveries.py) instead of grouping every key again.
with day_copies as (
    -- The build's date filter reaches this scan (report_date is a group key below), so a new day
    -- looks up its own keys: the join hands their filter to the scan of every key, which reads
    -- report_key alone for the rows that miss it, instead of grouping all keys (~2x less at 1M
    -- reports). A full build joins every key with every key, ~2.5x a grouping of them.
    select
        report_key,
        report_date,
        batch_id,
        content_sha256
    from main.reports
),

copies as (
    -- A key's copies differ by batch_id: the copies up to this one number it, the smallest is the first.
    select
        d.report_key,
        d.report_date,
        d.batch_id,
        any_value(d.content_sha256) as content_sha256,
        count(*) as copy_count,
        count(*) filter (where o.batch_id <= d.batch_id) as copy_number,
        min(o.batch_id) as first_batch_id,
        arg_min(o.content_sha256, o.batch_id) as first_content_sha256
    from day_copies as d
    inner join main.reports as o on d.report_key = o.report_key
    group by d.report_key, d.report_date, d.batch_id
)

select
    report_key,
    report_date,
    batch_id,
    copy_number,
    first_batch_id,
    content_sha256 = first_content_sha256 as same_content
from copies
where copy_count > 1
