-- grain: one row per distinct report, with the reporter normalised
-- incremental: report_date, lookback 0 days
-- reads: main.reports, config.reporter_domains
with reports as (
    select * from main.reports
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
        date_diff('minute', end_at, received_at) / 60.0 as arrival_lag_hours
    from reporter_domains
)

select * from normalised
