-- grain: one row per copy of a report key that main.reports holds more than once (two writers loaded it at once)
-- incremental: report_date, lookback 0 days
-- reads: main.reports
-- Two writers (machines) can both load one report before either commits, and a copy of a key
-- with another date range passes a writer's lookup: the first copy counts, by batch_id, which
-- begins with the batch's ingested_at (docs/architecture.md, "Exactly once across writers"). A
-- key is in one batch at most once. Only the whole table can tell a later copy, so this reads
-- two columns of every row, whatever days a build redoes (~0.3 s at 1M reports), and keeps the
-- few copies it finds, each with its key's first batch (so a copy of another date range than
-- the first still names it): staging.reports keeps the first copies, and readers of a build
-- tell the later ones' deliveries as duplicates from here (pipeline/store/settled_deliveries.py)
-- instead of grouping every key again.
with repeated_keys as (
    select report_key
    from main.reports
    group by report_key
    having count(*) > 1
),

copies as (
    select
        report_key,
        report_date,
        batch_id,
        content_sha256,
        row_number() over (partition by report_key order by batch_id) as copy_number,
        first_value(batch_id) over (partition by report_key order by batch_id) as first_batch_id,
        first_value(content_sha256) over (partition by report_key order by batch_id) as first_content_sha256
    from main.reports
    where report_key in (select repeated_keys.report_key from repeated_keys)
)

select
    report_key,
    report_date,
    batch_id,
    copy_number,
    first_batch_id,
    content_sha256 = first_content_sha256 as same_content
from copies
