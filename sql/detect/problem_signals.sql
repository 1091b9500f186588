-- grain: one row per kind, subject (problem domain or silent reporter), cause and flagged day (a silence: per gap)
-- reads: detect.anomalies, detect.problem_owners, marts.daily_domain_sessions, main.deliveries
with evidence as (
    select
        anomaly_id,
        unnest(evidence_report_keys) as report_key
    from detect.anomalies
),

arrivals as (
    -- When this warehouse first got each report (its first delivery), kept across rebuilds; only
    -- for the reports some anomaly rests on (grouping every delivery's key cost ~2x at 1M reports).
    select
        report_key,
        min(ingested_at) as first_ingested_at
    from main.deliveries
    where report_key in (select evidence.report_key from evidence)
    group by report_key
),

visible as (
    -- A flagged day became visible when the last report it rests on arrived: a late report
    -- makes its day visible later than the days already known (problem identity, problems.sql).
    select
        e.anomaly_id,
        max(r.first_ingested_at) as visible_at
    from evidence as e
    inner join arrivals as r on e.report_key = r.report_key
    group by e.anomaly_id
),

anomalies as (
    select
        a.*,
        coalesce(o.owner_domain, a.policy_domain) as problem_domain,
        v.visible_at
    from detect.anomalies as a
    left join detect.problem_owners as o on a.policy_domain = o.policy_domain
    left join visible as v on a.anomaly_id = v.anomaly_id
),

data_end as (
    select max(report_date) as data_through
    from marts.daily_domain_sessions
),

day_rows as (
    -- One row per domain, cause and day: a day flagged by several detectors is one day.
    select
        kind,
        problem_domain as subject,
        cause,
        report_date,
        report_date as last_day,
        min(detected_on) as detected_on,
        min(visible_at) as visible_at,
        count(*) as anomaly_count,
        list(anomaly_id order by anomaly_id) as anomaly_ids,
        list_sort(list(distinct policy_domain)) as policy_domains,
        list_sort(list(distinct reporter) filter (where reporter is not null)) as reporters,
        coalesce(
            sum(failed_sessions) filter (where metric = 'failure_rate'),
            max(failed_sessions)
        ) as failed_sessions,
        max(case
            when metric = 'failure_rate' then observed
            when metric = 'success_rate' then 1 - observed
        end) as failure_rate,
        null::boolean as still_silent
    from anomalies
    where kind in ('tls_failure', 'stale_policy')
    group by kind, problem_domain, cause, report_date
),

silences as (
    -- A reporter's silence is its problem, whichever domains it stopped reporting: one reporter
    -- falling silent for many domains at once is one problem (its reports stopped reaching us).
    select
        a.kind,
        a.reporter as subject,
        a.cause,
        a.report_date,
        -- The silence runs to the day before the next report, or to the end of the data.
        least(a.report_date + a.observed::integer - 2, e.data_through) as last_day,
        a.detected_on,
        -- A silence rests on no report (its reporter sent none): it has no arrival to anchor on.
        null::timestamptz as visible_at,
        1 as anomaly_count,
        [a.anomaly_id] as anomaly_ids,
        [a.policy_domain] as policy_domains,
        [a.reporter] as reporters,
        null::bigint as failed_sessions,
        null::double as failure_rate,
        a.report_date + a.observed::integer - 1 > e.data_through as still_silent
    from anomalies as a
    cross join data_end as e
    where a.kind = 'silent_reporter'
)

select * from day_rows
union all by name
select * from silences
