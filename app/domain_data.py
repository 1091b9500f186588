"""Queries of the domain page, and which MX hosts carry reports of their own (DANE reports filed
under an MX host, DOMAIN.md 8.7): they belong to the domain that MX serves."""

from __future__ import annotations

import polars as pl

from app.data import WHERE_REPORTER, Filters, _q


def owners(snap: str) -> dict[str, str]:
    """MX host -> the domain it serves, for MX hosts that are policy domains of their own. An MX
    named by several domains goes with the first; one that is itself a domain with MX hosts stays."""
    frame = _q(
        "with named as (select distinct policy_domain as owner, lower(rtrim(unnest(mx_host), '.')) as mx"
        " from main.policies where policy_domain is not null"
        " union select distinct policy_domain, receiving_mx_hostname from marts.sources_by_host_daily),"
        " reported as (select distinct policy_domain from marts.daily_domain_sessions)"
        " select mx, min(owner) as owner from named where mx <> owner and mx in (select * from reported)"
        " and mx not in (select owner from named where mx <> owner) group by mx", [], snap)
    return dict(zip(frame["mx"], frame["owner"]))


def daily(f: Filters, snap: str) -> pl.DataFrame:
    """Sessions per day and policy domain of the selection (reporter and trust filters applied)."""
    return _q(
        "select report_date, policy_domain, sum(successful_session_count) as successful,"
        " sum(failed_session_count) as failed, sum(total_session_count) as total"
        f" from marts.sources_by_reporter_daily where {WHERE_REPORTER} group by all order by 1, 2", f.params(), snap)


def mx_hosts(f: Filters, domain: str, snap: str) -> pl.DataFrame:
    """Per MX host of the domain: failures and their causes; sessions and success rate where the MX
    has DANE reports of its own (reports name hosts only for failed sessions otherwise)."""
    return _q(
        "with named as (select distinct lower(rtrim(unnest(mx_host), '.')) as pattern from main.policies"
        " where policy_domain = $6 and report_date between $2 and $3),"
        " fails as (select receiving_mx_hostname as mx, sum(failed_session_count) as failed,"
        " string_agg(distinct result_type, ', ' order by result_type) as causes, count(distinct reporter) as reporters,"
        " min(report_date) as first_seen, max(report_date) as last_seen"
        f" from marts.sources_by_host_daily where {WHERE_REPORTER} group by 1),"
        " dane as (select policy_domain as mx, sum(total_session_count) as dane_sessions,"
        " sum(successful_session_count) / nullif(sum(total_session_count), 0) as dane_success_rate"
        f" from marts.sources_by_reporter_daily where {WHERE_REPORTER} and policy_domain <> $6 group by 1),"
        # A policy's mx: line may be a wildcard (*.example.com): it matches hosts, it is not one.
        " hosts as (select pattern as mx from named where pattern not like '*%' union select mx from fails"
        " union select mx from dane)"
        " select h.mx as receiving_mx_hostname, exists (select 1 from named where named.pattern = h.mx"
        " or (named.pattern like '*.%' and h.mx like '%' || substr(named.pattern, 2))) as in_policy,"
        " dane.dane_sessions, dane.dane_success_rate, coalesce(fails.failed, 0) as failed, fails.reporters,"
        " fails.first_seen, fails.last_seen, fails.causes"
        " from hosts h left join fails using (mx) left join dane using (mx)"
        " order by failed desc, h.mx", [*f.params(), domain], snap)


def reporters(f: Filters, domain: str, snap: str) -> pl.DataFrame:
    """Per reporter of the domain: last report (any date), usual gap between reports, sessions and
    success rate in the window, and the policy it applied last."""
    return _q(
        "with days as (select distinct reporter, report_date from marts.sources_by_reporter_daily where policy_domain = $6),"
        " cadence as (select reporter, max(report_date) as last_report_day,"
        " median(gap) as usual_gap_days from (select reporter, report_date,"
        " date_diff('day', lag(report_date) over (partition by reporter order by report_date), report_date) as gap"
        " from days) group by reporter),"
        " window_rows as (select reporter, sum(total_session_count) as sessions,"
        " sum(failed_session_count) as failed,"
        " sum(successful_session_count) / nullif(sum(total_session_count), 0) as success_rate,"
        " count(distinct report_date) as report_days"
        f" from marts.sources_by_reporter_daily where {WHERE_REPORTER} and policy_domain = $6 group by reporter),"
        " applied as (select reporter, string_agg(distinct policy_type || coalesce(' ' || sts_mode, ''), ', ')"
        " as policy_applied from marts.applied_policies where policy_domain = $6 and is_latest_for_reporter group by reporter)"
        " select w.reporter, h.organization_name as organization, c.last_report_day, c.usual_gap_days, w.report_days, w.sessions, w.failed,"
        " w.success_rate, a.policy_applied from window_rows w join cadence c using (reporter)"
        " left join applied a using (reporter) left join marts.reporter_health h using (reporter) order by w.sessions desc", [*f.params(), domain], snap)


def summary(f: Filters, snap: str, owners_of: dict[str, str]) -> pl.DataFrame:
    """One row per domain: its own sessions and success rate (DANE reports of its MX hosts are
    named, not added: they describe the same sessions, DOMAIN.md 8.7), days and open problems."""
    per_domain = _q(
        "with open as (select policy_domain, count(*) as open_problems from (select unnest(affected_domains)"
        " as policy_domain from detect.problems where status = 'open') group by 1),"
        " sums as (select policy_domain, sum(total_session_count) as sessions, sum(failed_session_count) as failed,"
        " sum(successful_session_count) / nullif(sum(total_session_count), 0) as success_rate,"
        " count(distinct report_date) as report_days, max(report_date) as last_day"
        f" from marts.sources_by_reporter_daily where {WHERE_REPORTER} group by 1)"
        " select sums.*, coalesce(open.open_problems, 0) as open_problems from sums left join open using (policy_domain)"
        " order by open_problems desc, failed desc, 1", f.params(), snap)
    dane = (per_domain.filter(pl.col("policy_domain").is_in(list(owners_of)))
            .group_by(pl.col("policy_domain").replace(owners_of).alias("owner"))
            .agg(pl.col("policy_domain").sort().str.join(", ").alias("dane_mx_hosts")))
    return (per_domain.filter(~pl.col("policy_domain").is_in(list(owners_of)))
            .join(dane, left_on="policy_domain", right_on="owner", how="left"))
