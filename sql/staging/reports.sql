-- grain: one row per distinct report, with the reporter normalised
-- reads: main.reports
with reports as (
    select * from main.reports
),

reporter_domains as (
    select
        *,
        -- "Google Inc." and smtp-tls-reporting@google.com are one reporter: the contact domain
        -- is the stable name; self-hosted senders without one name themselves by host.
        string_split(coalesce(contact_domain, lower(trim(organization_name))), '.') as labels
    from reports
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
        -- Registrable part of the name: the last two labels, or three under a two-letter
        -- second level such as co.uk (corp.mail.ru -> mail.ru, mx.egressif.io -> egressif.io).
        case
            when len(labels) >= 3 and len(labels[-2]) <= 3 and len(labels[-1]) = 2
                then array_to_string(labels[-3:], '.')
            when len(labels) >= 2 then array_to_string(labels[-2:], '.')
            else array_to_string(labels, '.')
        end as reporter,
        date_diff('minute', end_at, received_at) / 60.0 as arrival_lag_hours
    from reporter_domains
)

select * from normalised
