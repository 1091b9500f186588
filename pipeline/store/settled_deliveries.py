"""`main.deliveries` as settled: what readers count intake by (`tlsrpt status`, the dashboard).

A writer decides `loaded` or `duplicate` when it commits, against what the lake held then. Two
writers (machines) can both load one report before either commits, and both write `loaded`; the
staging models keep the first copy by batch_id (sql/staging/reports.sql). A deliveries row is
never rewritten (appends from many writers commit side by side, a rewrite would conflict with
them), so readers take it through this query instead, which tells the later copy's row as the
duplicate it is, with the reason a writer would have given. `SETTLED` reads two columns of
`reports` whole (copies of one key are rare and may lie on any date; ~0.3 s at 1M reports), as
`tlsrpt status` must at any snapshot; readers of a model build's snapshot take `SETTLED_AT_BUILD`,
which reads the copies that build found (staging.report_copies). docs/architecture.md,
"Exactly once across writers".
"""

LOST_RACE = (
    "another writer loaded this report at the same time; the copy of the earlier batch counts"
)


def _settled(later_copies: str, deliveries: str = "main.deliveries") -> str:
    """`deliveries` (main.deliveries, or a selection of its rows) with the loaded rows of
    `later_copies` (report_key, batch_id, same_content: the copies that lost a race) told as the
    duplicates they are."""
    return f"""
with later_copies as (
{later_copies}
)

select
    d.* replace (
        if(l.report_key is null, d.outcome, 'duplicate') as outcome,
        case
            when l.report_key is null then d.reason_code
            when l.same_content then 'same_report'
            else 'same_key_different_content'
        end as reason_code,
        if(l.report_key is null, d.detail, '{LOST_RACE}') as detail
    )
from {deliveries} as d
left join later_copies as l
    on d.outcome = 'loaded' and d.report_key = l.report_key and d.batch_id = l.batch_id
"""


# One select, no parameters: used as a table, `from ({SETTLED}) as deliveries`. Reads the later
# copies off main.reports itself, so it holds at any snapshot, built or not (`tlsrpt status`).
SETTLED = _settled("""
    with repeated_keys as (
        select report_key from main.reports group by report_key having count(*) > 1
    )

    select report_key, batch_id, content_sha256 = first_content_sha256 as same_content
    from (
        select
            report_key,
            batch_id,
            content_sha256,
            first_value(content_sha256) over (partition by report_key order by batch_id) as first_content_sha256,
            row_number() over (partition by report_key order by batch_id) as copy_number
        from main.reports
        where report_key in (select report_key from repeated_keys)
    )
    where copy_number > 1
""")

# The same at the snapshot of a model build (what the dashboard reads): the later copies the build
# found (staging.report_copies), instead of grouping every report key again on each read.
_BUILT_LATER_COPIES = """
    select report_key, batch_id, same_content from staging.report_copies where copy_number > 1
"""
SETTLED_AT_BUILD = _settled(_BUILT_LATER_COPIES)


def settled_at_build(deliveries: str) -> str:
    """SETTLED_AT_BUILD of some rows of main.deliveries only (`deliveries`: a parenthesised select)."""
    return _settled(_BUILT_LATER_COPIES, deliveries)
