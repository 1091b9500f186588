-- grain: one row per report, policy domain and detailed failure, counted once, with its cause and sub-cause
-- incremental: report_date, lookback 0 days
-- reads: intermediate.failures_once_per_report, staging.policies, config.reason_patterns, config.result_type_causes
with details as not materialized (
    -- Counted once (a failure listed under a report's sts and tlsa policies is one row); the
    -- failures no detail names have no cause to find. Not materialized: read twice, and a
    -- materialized CTE keeps the build's date filter out of its scan (every failure of all time).
    select * from intermediate.failures_once_per_report
    where is_detailed
),

policies as (
    -- The mx: lines of the report's MTA-STS policies for the domain: the MX a failure hit is
    -- checked against them, whichever of the report's policies listed the failure. Keyed by
    -- report_date too, so a build of one day reads that day's policies only (a report's
    -- policies share its date): without it every policy of all time is grouped each time.
    select
        report_key,
        report_date,
        policy_domain,
        flatten(list(sts_mx)) as sts_mx
    from staging.policies
    where policy_type = 'sts' and len(sts_mx) > 0
    group by report_key, report_date, policy_domain
),

reason_texts as (
    -- Keyed by report_date too, as the policies above: a build of one day matches that day's texts.
    select distinct
        report_date,
        lower(failure_reason_code) as reason
    from details
    where failure_reason_code is not null
),

reasons as (
    -- Each distinct reason text of a day is matched once (there are far fewer texts than rows);
    -- the lowest-priority pattern wins. A pattern's cause may be null: it only names a sub-cause.
    select
        t.report_date,
        t.reason,
        first(p.sub_cause order by p.priority, p.pattern) as sub_cause,
        first(p.cause order by p.priority, p.pattern) as pattern_cause
    from reason_texts as t
    inner join config.reason_patterns as p on regexp_matches(t.reason, p.pattern)
    group by t.report_date, t.reason
),

checked as (
    select
        d.*,
        r.sub_cause,
        r.pattern_cause,
        rc.cause as result_cause,
        lower(rtrim(d.receiving_mx_hostname, '.')) as mx_host,
        -- Does the MX senders were sent to match one of the policy's mx: lines? A `*.` pattern
        -- covers exactly one label (RFC 8461 section 4.1). Only asked under an MTA-STS policy.
        case
            when p.sts_mx is not null and d.receiving_mx_hostname is not null
                then len(list_filter(p.sts_mx, pattern -> (
                    lower(rtrim(pattern, '.')) = lower(rtrim(d.receiving_mx_hostname, '.'))
                    or (
                        starts_with(pattern, '*.')
                        and ends_with(lower(rtrim(d.receiving_mx_hostname, '.')), lower(substr(pattern, 2)))
                        and not contains(
                            left(
                                lower(rtrim(d.receiving_mx_hostname, '.')),
                                length(rtrim(d.receiving_mx_hostname, '.')) - length(pattern) + 1
                            ),
                            '.'
                        )
                    )
                ))) > 0
        end as mx_in_policy
    from details as d
    left join policies as p
        on d.report_date = p.report_date and d.report_key = p.report_key and d.policy_domain = p.policy_domain
    left join reasons as r on d.report_date = r.report_date and lower(d.failure_reason_code) = r.reason
    left join config.result_type_causes as rc on d.result_type = rc.result_type
)

select
    c.report_key,
    c.report_date,
    c.reporter,
    c.trust,
    c.policy_domain,
    c.result_type,
    c.result_group,
    c.failed_session_count,
    c.sending_mta_ip,
    c.sending_mta_network,
    c.receiving_mx_hostname,
    c.receiving_ip,
    c.failure_reason_code,
    c.sub_cause,
    c.mx_host,
    c.mx_in_policy,
    case
        -- An MX outside the policy is the cause whatever type the sender filed it under.
        when c.mx_in_policy = false or c.pattern_cause = 'mx_not_in_policy' then 'mx_not_in_policy'
        -- The catch-all and unregistered types are refined by their reason text.
        when (c.result_cause is null or c.result_cause = 'validation_failure') and c.pattern_cause is not null
            then c.pattern_cause
        when c.result_cause is not null then c.result_cause
        else 'unknown_result_type'
    end as cause
from checked as c
