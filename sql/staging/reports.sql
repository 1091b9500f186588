-- grain: one row per distinct report (report_key), the first copy loaded, with the reporter normalised
-- incremental: report_date, lookback 0 days
-- reads: main.reports, staging.report_copies, config.reporter_domains
with copies as (
    select * from main.reports
),

repeated_keys as (
    -- A report two writers loaded at once: the first copy counts (staging.report_copies; any of
    -- a key's rows names its first batch, whichever days this build redoes).
    select distinct
        report_key,
        first_batch_id
    from staging.report_copies
),

reports as (
    select copies.*
    from copies
    left join repeated_keys
        on copies.report_key = repeated_keys.report_key
    where repeated_keys.report_key is null or copies.batch_id = repeated_keys.first_batch_id
),

reporter_domains as (
    select
        reports.*,
        -- "Google Inc." and smtp-tls-reporting@google.com are one reporter: the contact domain
        -- is the stable name; self-hosted senders without one name themselves by host. Cut to
        -- its registrable domain by the Public Suffix List (corp.mail.ru -> mail.ru,
        -- tlsrpt.gmx.de -> gmx.de, example.co.uk stays whole): pipeline/transform/reporter_domains.py.
        coalesce(domains.reporter, reports.contact_domain, lower(trim(reports.organization_name))) as reporter
    from reports
    left join config.reporter_domains as domains
        on coalesce(reports.contact_domain, lower(trim(reports.organization_name))) = domains.name
),

normalised as (
    select
        report_key,
        organization_name,
        report_id,
        report_date,
        start_at,
        end_at,
        received_at,
        channel,
        contact_domain,
        conformance_flags,
        trust,
        dkim_result,
        reporter,
        date_diff('minute', end_at, received_at) / 60.0 as arrival_lag_hours,
        batch_id
    from reporter_domains
)

-- In date order: the table's data files then hold a few days per row group, so the dashboard's
-- newest-first lists skip the older row groups by their min/max dates (a day's insert of an
-- incremental build is in order by itself).
select * from normalised
order by report_date
