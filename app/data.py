"""Every query the dashboard makes: against the lake pinned to the last passed model build,
read-only (pipeline/read.py, the one module the app reads through, says what it may read).

Values are bound parameters (a search text excepted: a quoted constant, see `reports`); results
are cached per snapshot id, so a new build shows at once and a pinned snapshot never changes under
a cached answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import polars as pl
import streamlit as st

from pipeline import read


@dataclass(frozen=True)
class Filters:
    domains: tuple[str, ...]
    start: date
    end: date
    reporter: str | None
    verified_only: bool = False  # only reports whose DKIM signature verified

    def params(self) -> list:
        return [list(self.domains), self.start, self.end, self.reporter, self.verified_only]


# Shared WHERE clause for day-grain marts: $1 domains ([] = all), $2..$3 dates, $4 reporter,
# $5 DKIM-verified reports only.
WHERE = ("(len($1::varchar[]) = 0 or list_contains($1::varchar[], policy_domain))"
         " and report_date between $2 and $3")
WHERE_REPORTER = WHERE + " and ($4::varchar is null or reporter = $4) and (not $5 or trust = 'dkim_verified')"


def current_snapshot() -> str | None:
    """The lake snapshot to show, as the token every query function takes as `snap`: it names
    the lake and the snapshot id, so the caches never give one lake's answer for another's."""
    return read.current_snapshot()


@st.cache_data(ttl="10m", show_spinner=False)
def run(sql: str, params: tuple, snapshot: str) -> pl.DataFrame:
    return read.query(snapshot, sql, params)


def _q(sql: str, params: list, snap: str) -> pl.DataFrame:
    return run(sql, tuple(tuple(p) if isinstance(p, list) else p for p in params), snap)


def choices(snap: str, today: date | None = None) -> dict:
    """`latest`: the newest report day not after `today` (UTC, the clock). A report dated in the
    future (any sender can claim 9999-12-31) must not move the default window off the real data."""
    today = today or datetime.now(timezone.utc).date()
    span = _q("select min(report_date) as first, max(report_date) as last,"
              " max(report_date) filter (where report_date <= $1) as latest from marts.daily_domain_sessions",
              [today], snap)
    domains = _q("select distinct policy_domain from marts.daily_domain_sessions order by 1", [], snap)
    reporters = _q("select reporter, organization_name from marts.reporter_health order by report_count desc", [], snap)
    return {"first": span["first"][0], "last": span["last"][0], "latest": span["latest"][0] or today,
            "domains": domains["policy_domain"].to_list(),
            "reporters": dict(zip(reporters["reporter"], reporters["organization_name"]))}


# Session totals of a group of marts.sources_by_reporter_daily rows, and their success rate.
SESSION_TOTALS = ("sum(total_session_count) as sessions, sum(failed_session_count) as failed,"
                  " sum(successful_session_count) / nullif(sum(total_session_count), 0) as success_rate")


def kpis_by_trust(f: Filters, snap: str) -> pl.DataFrame:
    """The sessions of the selection per trust level: how much unauthenticated reports weigh."""
    return _q(
        f"select trust, count(distinct reporter) as reporters, sum(report_count) as reports, {SESSION_TOTALS}"
        f" from marts.sources_by_reporter_daily where {WHERE_REPORTER} group by trust order by sessions desc, trust",
        f.params(), snap)


def kpis(f: Filters, snap: str) -> pl.DataFrame:
    return _q(
        "select coalesce(sum(total_session_count), 0) as sessions, coalesce(sum(successful_session_count), 0) as successful,"
        " coalesce(sum(failed_session_count), 0) as failed, count(distinct reporter) as reporters"
        f" from marts.sources_by_reporter_daily where {WHERE_REPORTER}", f.params(), snap)


TREND_DOMAINS = 8  # lines in the success-rate chart: more is a blur (and 400,000 points at 1M reports)
LIST_LIMIT = 2000  # rows a table query returns at most; each such query also returns the full count


def daily_rates(f: Filters, snap: str) -> pl.DataFrame:
    """Success rate per day for the TREND_DOMAINS domains with the most failures, plus an "all
    domains" line when the selection holds more domains than that."""
    if f.reporter is None and not f.verified_only:
        # Nothing per reporter asked: the day x domain mart already holds the sums (and is far
        # smaller than the per-reporter one at a million reports).
        source = ("select report_date, policy_domain, successful_session_count as successful,"
                  " total_session_count as total, failed_session_count as failed"
                  f" from marts.daily_domain_sessions where {WHERE}")
        params = f.params()[:3]
    else:
        source = ("select report_date, policy_domain, sum(successful_session_count) as successful,"
                  " sum(total_session_count) as total, sum(failed_session_count) as failed"
                  f" from marts.sources_by_reporter_daily where {WHERE_REPORTER} group by all")
        params = f.params()
    return _q(
        f"with base as ({source}),"
        " worst as (select policy_domain from base group by 1 order by sum(failed) desc, sum(total) desc, 1"
        f" limit {TREND_DOMAINS}),"
        " lines as (select report_date, policy_domain, successful, total, failed from base semi join worst using (policy_domain)"
        " union all select report_date, 'all domains', sum(successful), sum(total), sum(failed) from base"
        f" where (select count(distinct policy_domain) from base) > {TREND_DOMAINS} group by 1)"
        " select *, successful / nullif(total, 0) as success_rate from lines order by 1, 2", params, snap)


def failures_by_result(f: Filters, snap: str) -> pl.DataFrame:
    return _q(
        "select result_type, result_group, sum(failed_session_count) as failed_sessions, count(distinct reporter) as reporters,"
        " min(report_date) as first_day, max(report_date) as last_day"
        f" from marts.sources_by_host_daily where {WHERE_REPORTER} group by all order by failed_sessions desc", f.params(), snap)


def failures_daily(f: Filters, snap: str) -> pl.DataFrame:
    return _q(
        "select report_date, result_type, sum(failed_session_count) as failed_sessions"
        f" from marts.sources_by_host_daily where {WHERE_REPORTER} group by all order by 1", f.params(), snap)


def sources_by_reporter(f: Filters, snap: str) -> pl.DataFrame:
    # The reporter's usual name is all-time (marts.reporter_health), not a column of the per-day mart.
    return _q(
        f"with per_reporter as (select reporter, {SESSION_TOTALS},"
        " min(report_date) as first_seen, max(report_date) as last_seen"
        f" from marts.sources_by_reporter_daily where {WHERE_REPORTER} group by reporter)"
        " select p.reporter, h.organization_name as organization, p.* exclude (reporter) from per_reporter p"
        " left join marts.reporter_health h using (reporter) order by failed desc, sessions desc",
        f.params(), snap)


def sources_by_host(f: Filters, snap: str) -> pl.DataFrame:
    """The LIST_LIMIT largest failure sources (reporter, MX, IPs, type); `total_rows` counts all."""
    return _q(
        "select reporter, receiving_mx_hostname, receiving_ip, sending_mta_ip, sending_mta_network, result_type,"
        " sum(failed_session_count) as failed, min(report_date) as first_seen, max(report_date) as last_seen,"
        " list_distinct(flatten(list(failure_reason_codes))) as reasons, count(*) over () as total_rows"
        f" from marts.sources_by_host_daily where {WHERE_REPORTER} group by all order by failed desc, 2, 4"
        f" limit {LIST_LIMIT}", f.params(), snap)


def failures_by_mx(f: Filters, snap: str) -> pl.DataFrame:
    """Failed sessions per receiving MX, reporter and result type, largest first."""
    return _q(
        "select receiving_mx_hostname, reporter, result_type, sum(failed_session_count) as failed,"
        " min(report_date) as first_seen, max(report_date) as last_seen, count(*) over () as total_rows"
        f" from marts.sources_by_host_daily where {WHERE_REPORTER} group by all order by failed desc, 1, 2, 3"
        f" limit {LIST_LIMIT}", f.params(), snap)


def applied_policies(f: Filters, snap: str) -> pl.DataFrame:
    return _q(
        "select policy_domain, reporter, policy_type, sts_mode, sts_max_age, array_to_string(sts_mx, ', ') as sts_mx,"
        " len(tlsa_records) as tlsa_records,"
        " first_day, last_day, is_latest_for_reporter, count(*) over () as total_rows from marts.applied_policies"
        " where (len($1::varchar[]) = 0 or list_contains($1::varchar[], policy_domain)) and ($2::varchar is null or reporter = $2)"
        f" order by policy_domain, reporter, last_day desc limit {LIST_LIMIT}", [list(f.domains), f.reporter], snap)


def _listed(columns: str, source: str, order: str, params: list, snap: str, limit: int | None,
            newest_first: str | None = None) -> pl.DataFrame:
    """`select columns source order by order limit limit`, with `total_rows`: the count of every
    row `source` (its FROM and WHERE) matches, asked by a query of its own. `count(*) over ()` in
    the listing itself made DuckDB keep every matching row whole until the limit: 1.2 s for the
    newest 2,000 deliveries of 1M against 0.03 s without (loaded machine).

    `newest_first`: the date column `order` begins with (descending). One pass counts the
    matching rows per day, which gives the total and the limit-th newest date alike; the rows
    shown are then looked for only from that date on, as a literal, so the scan skips the row
    groups of older days (staging.reports is written in date order). At 1M reports, a search
    matching 378k reports read every report_id three times (the top-N dates, the rows, the count):
    268 ms; now twice, the second time only the newest days' row groups."""
    query = f"select {columns} {source}"
    if newest_first is None:
        total = _q(f"select count(*) as total_rows {source}", params, snap)["total_rows"][0]
    else:
        per_day = _q(f"select {newest_first} as day, count(*) as n {source} group by all order by day desc nulls last",
                     params, snap)
        total = int(per_day["n"].sum())
        cutoff = _newest_days_from(per_day["day"].to_list(), per_day["n"].to_list(), limit)
        if cutoff is not None:  # a literal, not a subquery: only a constant lets the scan skip row groups
            column = newest_first.split(".")[-1]
            query = f"select * from ({query}) where {column} >= date '{cutoff.isoformat()}'"
            order = ", ".join(part.split(".")[-1] for part in order.split(", "))
    if total == 0:
        limit = 0  # nothing to look for a second time: a search matching nothing read every row once
    rows = _q(f"{query} order by {order}" + (f" limit {int(limit)}" if limit is not None else ""), params, snap)
    return rows.with_columns(pl.lit(total, dtype=pl.Int64).alias("total_rows"))


def _newest_days_from(days: list, counts: list[int], limit: int | None) -> date | None:
    """The date the newest `limit` rows begin on, given the rows per day newest first (a null day
    last): None when every row is wanted (no limit, or fewer dated rows than it), as a cutoff
    would then drop the undated ones."""
    if limit is None:
        return None
    seen = 0
    for day, count in zip(days, counts):
        if day is None:
            return None
        seen += count
        if seen >= limit:
            return day
    return None


def reports(f: Filters, search: str, snap: str, keys: tuple[str, ...] = (), mx: str | None = None,
            limit: int | None = LIST_LIMIT) -> pl.DataFrame:
    """Reports of the selection, newest first. `search` matches a report key exactly (whatever the
    days) or part of a report-id or organisation (any case, the text as typed: `%` and `_` are
    no wildcards); `keys` lists reports by key alone (a problem's evidence); `mx` keeps the reports
    that name that MX host. `total_rows` counts all matches.
    From staging.reports: one copy per report key, where main.reports keeps both copies of a report
    two writers loaded at once (pipeline/store/settled_deliveries.py).

    Only the filters in use go into the query: a filter switched off by a parameter (`len($1) = 0
    or key in (select ... from main.policies ...)`) still joined 1M policies on every call (at 1M
    reports 62 ms of the count alone, against 4 ms)."""
    conditions: list[str] = []
    params: list = []
    if keys:
        conditions.append("list_contains(?::varchar[], r.report_key)")
        params.append(list(keys))
    else:
        search = search.strip()
        if search:
            # contains() of lower(): a case-blind substring, ~1.5-2x cheaper than ilike '%...%'; the
            # short organisation name first, as a match there spares the report id. The text goes in
            # as a constant, not a parameter, so DuckDB lowers it once, and the exact key is asked
            # for only by a text shaped like one: that OR alone cost every search ~50 ms at 1M.
            text = read.sql_text(search)
            matches = [f"(r.report_date between ? and ? and (contains(lower(r.organization_name), lower({text}))"
                       f" or contains(lower(r.report_id), lower({text}))))"]
            if read.REPORT_KEY_SHAPE.fullmatch(search):
                matches.append(f"r.report_key = {text}")
            conditions.append("(" + " or ".join(matches) + ")")
            params += [f.start, f.end]
        else:
            conditions.append("r.report_date between ? and ?")
            params += [f.start, f.end]
        if f.domains:
            conditions.append("r.report_key in (select report_key from main.policies"
                              " where list_contains(?::varchar[], policy_domain))")
            params.append(list(f.domains))
        if f.verified_only:
            conditions.append("r.trust = 'dkim_verified'")
        if mx is not None:
            conditions.append("r.report_key in (select report_key from main.failure_details"
                              " where receiving_mx_hostname = ? union all select report_key from main.policies"
                              " where policy_domain = ?)")
            params += [mx, mx]
    return _listed(
        "r.report_key, r.organization_name, r.report_id, r.report_date, r.received_at, r.trust,"
        " r.conformance_flags, r.channel, r.dkim_result",
        "from staging.reports r where " + " and ".join(conditions),
        "r.report_date desc, r.organization_name, r.report_key", params, snap, limit, newest_first="r.report_date")


def deliveries(outcome: str | None, snap: str) -> pl.DataFrame:
    """The newest 2,000 deliveries (of one settled outcome), as settled (a copy that lost a race
    between two writers reads as a duplicate). Settling turns only `loaded` rows into `duplicate`
    ones: for every deliveries or only the quarantined ones, the newest rows and their count are
    those of main.deliveries, and only the rows shown are settled (the newest 2,000 of 1M: 0.36 s
    settling all, loaded machine)."""
    columns = "ingested_at, outcome, reason_code, channel, report_key, attachment_name, origin, part_index, raw_sha256"
    if outcome in (None, "quarantined"):
        rows = _q(f"select {columns} from (" + read.settled_deliveries("(select * from main.deliveries"
                  " where ($1::varchar is null or outcome = $1) order by ingested_at desc, delivery_id limit 2000)")
                  + ") order by ingested_at desc, delivery_id", [outcome], snap)
        total = _q("select count(*) as total_rows from main.deliveries where ($1::varchar is null or outcome = $1)",
                   [outcome], snap)["total_rows"][0]
        return rows.with_columns(pl.lit(total, dtype=pl.Int64).alias("total_rows"))
    return _listed(columns, "from (" + read.SETTLED_DELIVERIES + ") where outcome = $1",
                   "ingested_at desc, delivery_id", [outcome], snap, 2000)


def quarantine(snap: str) -> pl.DataFrame:
    return _q(
        "select ingested_at, origin, attachment_name, reason_code, detail, raw_sha256, count(*) over () as total_rows"
        " from main.deliveries"
        " where outcome = 'quarantined' order by ingested_at desc limit 2000", [], snap)


def raw_report(report_key: str, snap: str) -> str | None:
    return read.raw_report_json(report_key, snap)


def posture_summary(domain: str, snap: str) -> dict | None:
    """What the domain publishes now and its enforce readiness (posture.*), or None when it was
    never checked (or the snapshot predates the posture models)."""
    try:
        found = _q("select p.verdict, p.published_mode, p.published_policy_id, p.min_certificate_days_left,"
                   " p.fail_count, p.warn_count, p.checked_at, r.verdict as readiness, r.fix_first"
                   " from posture.domain_posture as p"
                   " left join posture.enforce_readiness as r on r.policy_domain = p.domain"
                   " where p.domain = $1", [domain], snap)
    except read.NotBuilt:
        return None
    return found.row(0, named=True) if found.height else None


def problems(f: Filters, status: str | None, snap: str, problem_id: str | None = None) -> pl.DataFrame:
    """Problems touching the selected domains, worst first (detect.problems): the open ones whatever
    the days chosen (an open problem is news), the resolved ones that overlap the days; or the
    one `problem_id` names, whatever its days."""
    return _q(
        "select problem_id, status, severity, title, first_seen, last_seen, resolved_on, detected_on, policy_domain,"
        " affected_domains, affected_mx_hosts, affected_ips, affected_sending_networks, affected_reporters,"
        " sessions_affected, peak_failure_rate, diagnosis, fix, reason_codes, anomaly_count, cause, kind,"
        " count(*) over () as total_rows from detect.problems"
        " where (len($1::varchar[]) = 0 or len(list_intersect($1::varchar[], affected_domains)) > 0)"
        " and (status = 'open' or $5::varchar is not null or (last_seen >= $2 and first_seen <= $3))"
        " and ($4::varchar is null or status = $4) and ($5::varchar is null or problem_id = $5)"
        f" order by status = 'open' desc, severity_rank desc, last_seen desc, title limit {LIST_LIMIT}",
        [list(f.domains), f.start, f.end, status, problem_id], snap)


def open_problems(f: Filters, snap: str) -> pl.DataFrame:
    """How many problems touching the selected domains are open (whatever the days), how many critical."""
    return _q(
        "select count(*) as open, count(*) filter (where severity = 'critical') as critical from detect.problems"
        " where status = 'open' and (len($1::varchar[]) = 0 or len(list_intersect($1::varchar[], affected_domains)) > 0)",
        [list(f.domains)], snap)


def problem_evidence(problem_id: str, snap: str) -> pl.DataFrame:
    """The anomaly rows a problem rests on: observed value, baseline, score, threshold, reports."""
    return _q(
        "select a.report_date, a.detector, a.detail, a.observed, a.baseline, a.score, a.threshold, a.failed_sessions,"
        " a.total_sessions, a.baseline_from, a.baseline_to, a.reporter, a.receiving_mx, a.evidence_report_keys"
        " from detect.anomalies a join (select unnest(anomaly_ids) as anomaly_id from detect.problems"
        " where problem_id = $1) p using (anomaly_id) order by a.report_date, a.detector",
        [problem_id], snap)
