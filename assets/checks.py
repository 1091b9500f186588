"""Asset checks: core tables and marts keyed (unique, not null), and the marts reconciled with
the core tables (every failed session and every report counted, exactly once)."""


import dagster as dg

from assets.resources import WarehouseResource
from pipeline.store import lake

# A report key may have a copy per batch: two writers (machines) can load one report at once, and
# the staging models keep the first copy (docs/architecture.md, "Exactly once across writers"). So
# the core tables are keyed with batch_id, and the marts are reconciled with the kept copies.
# (asset, check name, SQL counting offending rows, what it proves)
CHECKS = [
    ("reports", "report_key_unique_per_batch", "select count(*) - count(distinct (report_key, batch_id)) + count(*) filter (report_key is null) from reports", "report_key is unique within a batch and not null"),
    ("policies", "policy_key_unique", "select count(*) - count(distinct (report_key, policy_index, batch_id)) from policies", "(report_key, policy_index) is unique within a batch"),
    ("policies", "policies_have_reports", "select count(*) from policies p anti join reports r using (report_key, batch_id)", "every policy belongs to a report its batch loaded"),
    ("failure_details", "details_have_policies", "select count(*) from failure_details d anti join policies p using (report_key, policy_index, batch_id)", "every failure detail belongs to a policy its batch loaded"),
    ("deliveries", "loaded_reports_have_one_loaded_delivery", "select count(*) from reports r full join (select report_key, batch_id, count(*) n from deliveries where outcome = 'loaded' group by all) d using (report_key, batch_id) where d.n is distinct from 1 or r.report_key is null", "each copy of a report has exactly one loaded delivery in its batch, and each loaded delivery a report"),
    ("deliveries", "quarantine_has_reason", "select count(*) from deliveries where outcome = 'quarantined' and reason_code is null", "every quarantined input says why"),
]


# Each mart's key: unique and not null, the offending count as metadata.
MART_KEYS = {
    "marts/daily_outcomes": ["report_date", "policy_domain", "policy_type", "sts_mode"],
    "marts/daily_domain_sessions": ["report_date", "policy_domain"],
    "marts/failures_by_result": ["report_date", "policy_domain", "result_type"],
    "marts/sources_by_reporter_daily": ["report_date", "policy_domain", "reporter", "trust"],
    "marts/sources_by_host_daily": [
        "report_date", "policy_domain", "reporter", "trust", "sending_mta_ip", "receiving_mx_hostname", "receiving_ip",
        "result_type",
    ],
    "marts/sources": [
        "source_level", "report_date", "policy_domain", "reporter", "trust", "sending_mta_ip", "receiving_mx_hostname",
        "receiving_ip",
    ],
    "marts/applied_policies": ["policy_domain", "reporter", "policy_type", "policy_fingerprint"],
    "marts/reporter_health": ["reporter"],
    "detect/anomalies": ["anomaly_id"],
    "detect/problems": ["problem_id"],
}

# Reconciliation: the marts count exactly what the core tables hold, and every mart that shows a
# session or failure total counts it once per report (docs/marts.md, "Counting rules"), so the
# pages agree. Each query returns the offending rows (named), so a failing check says which day,
# domain and mart disagree. (asset, name, SQL, what it proves, other marts it reads)
_PER_DAY = "report_date, policy_domain"
_FAILED = f"select {_PER_DAY}, sum(failed_session_count) as n from {{}} group by all"
_HOST_SOURCES = "marts.sources where source_level = 'host'"
_KEPT = "(select * from {} semi join staging.reports using (report_key, batch_id))"  # the copies staging keeps
RECONCILIATIONS = [
    ("marts/failures_by_result", "failed_sessions_counted_once_agree_across_marts",
     f"select {_PER_DAY}, r.n as by_result, h.n as by_host, s.n as sources_host_rows, o.n as stated_once"
     f" from ({_FAILED.format('marts.failures_by_result')}) r"
     f" full join ({_FAILED.format('marts.sources_by_host_daily')}) h using ({_PER_DAY})"
     f" full join ({_FAILED.format(_HOST_SOURCES)}) s using ({_PER_DAY})"
     f" full join ({_FAILED.format('marts.daily_domain_sessions')}) o using ({_PER_DAY})"
     " where r.n is distinct from h.n or r.n is distinct from s.n or coalesce(r.n, 0) < coalesce(o.n, 0)",
     "failed sessions per day and domain are the same by result type, by host and in marts.sources, and"
     " never fewer than the stated failures counted once (the undetailed ones show as '(no details given)')",
     ["marts/sources_by_host_daily", "marts/sources", "marts/daily_domain_sessions"]),
    ("marts/sources", "sessions_counted_once_agree_across_marts",
     f"select {_PER_DAY}, d.t as daily, d.f as daily_failed, r.t as by_reporter, r.f as by_reporter_failed,"
     " s.t as sources, s.f as sources_failed from"
     f" (select {_PER_DAY}, sum(total_session_count) t, sum(failed_session_count) f from marts.daily_domain_sessions group by all) d"
     f" full join (select {_PER_DAY}, sum(total_session_count) t, sum(failed_session_count) f"
     " from marts.sources_by_reporter_daily group by all) r using (report_date, policy_domain)"
     f" full join (select {_PER_DAY}, sum(total_session_count) t, sum(failed_session_count) f"
     " from marts.sources where source_level = 'reporter' group by all) s using (report_date, policy_domain)"
     " where (d.t, d.f) is distinct from (r.t, r.f) or (d.t, d.f) is distinct from (s.t, s.f)",
     "sessions and failed sessions per day and domain are the same in daily_domain_sessions,"
     " sources_by_reporter_daily and marts.sources",
     ["marts/daily_domain_sessions"]),
    ("marts/failures_by_result", "every_detailed_failure_is_counted",
     "select d.report_date, d.policy_domain, d.once as at_least, d.plain as at_most, m.n as in_mart from"
     " (select report_date, policy_domain, sum(once) once, sum(plain) plain from (select report_date,"
     " coalesce(policy_domain, '(unknown)') policy_domain, report_key, max(n) once, sum(n) plain from"
     " (select report_date, policy_domain, report_key, policy_index, sum(coalesce(failed_session_count, 0)) n"
     f" from {_KEPT.format('failure_details')} group by all) group by all) group by all) d"
     " left join (select report_date, policy_domain, sum(failed_session_count) n from marts.failures_by_result"
     " where result_type <> '(no details given)' group by all) m using (report_date, policy_domain)"
     " where coalesce(m.n, 0) < d.once or coalesce(m.n, 0) > d.plain",
     "the detailed failures per day and domain lie between the largest policy's details per report and"
     " the plain sum of failure_details: nothing dropped, nothing counted twice over",
     []),
    ("marts/reporter_health", "every_report_has_a_reporter",
     "select r.report_key, r.organization_name from reports r where r.report_key not in (select report_key from staging.reports)"
     " or (select sum(report_count) from marts.reporter_health) <> (select count(distinct report_key) from reports)",
     "reporter_health counts every report exactly once", []),
    ("marts/daily_outcomes", "every_report_is_counted",
     "select r.report_key, r.organization_name, r.report_id from reports r"
     " where r.policy_count > 0 and r.report_key not in (select report_key from staging.policies)",
     "every report with policies contributes to the daily outcomes", []),
    ("marts/daily_outcomes", "stated_sessions_match_policies",
     "select p.report_date, p.policy_domain, p.n as in_policies, m.n as in_mart from"
     " (select report_date, coalesce(policy_domain, '(unknown)') policy_domain, sum(coalesce(successful_session_count, 0)"
     f" + coalesce(failed_session_count, 0)) n from {_KEPT.format('policies')} group by all) p full join"
     " (select report_date, policy_domain, sum(total_session_count) n from marts.daily_outcomes group by all) m"
     " using (report_date, policy_domain) where p.n is distinct from m.n",
     "stated sessions per day and domain equal those in policies", []),
    ("detect/problems", "every_anomaly_in_exactly_one_problem",
     "select a.anomaly_id, a.detector, a.policy_domain, a.report_date, p.n as problems from detect.anomalies a"
     " full join (select anomaly_id, count(*) n from (select unnest(anomaly_ids) as anomaly_id from detect.problems)"
     " group by 1) p using (anomaly_id) where p.n is distinct from 1 or a.detector is null",
     "each anomaly is evidence of exactly one problem, and every problem rests on existing anomalies", []),
]


def _query(warehouse: WarehouseResource, sql: str) -> list[tuple]:
    con = lake.open_lake(warehouse.settings(), read_only=True)  # the newest snapshot: what the run just built
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _count_check(asset: str, name: str, sql: str, doc: str) -> dg.AssetChecksDefinition:
    """`sql` returns one number: how many rows break the rule."""

    @dg.asset_check(asset=dg.AssetKey(asset.split("/")), name=name, description=doc)
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        offending = _query(warehouse, sql)[0][0]
        return dg.AssetCheckResult(passed=offending == 0, metadata={"offending_rows": offending})

    return _check


def _rows_check(asset: str, name: str, sql: str, doc: str, reads: list[str] = ()) -> dg.AssetChecksDefinition:
    """`sql` returns the offending rows themselves, so a failure names them; `reads`: the other
    assets it compares with, so it runs after them too."""

    @dg.asset_check(asset=dg.AssetKey(asset.split("/")), name=name, description=doc,
                    additional_deps=[dg.AssetKey(a.split("/")) for a in reads])
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        rows = _query(warehouse, f"select * from ({sql}) limit 1000")
        examples = [repr(row) for row in rows[:10]]
        return dg.AssetCheckResult(
            passed=not rows,
            metadata={"offending_rows": len(rows), "examples": "\n".join(examples) or "none"},
            description=f"{len(rows)} offending rows, first: {examples[0]}" if rows else None,
        )

    return _check


def _key_sql(table: str, columns: list[str]) -> str:
    cols = ", ".join(columns)
    nulls = " or ".join(f"{c} is null" for c in columns)
    return f"select {cols}, count(*) as copies from {table} group by all having count(*) > 1 or bool_or({nulls})"


core_checks = [_count_check(*spec) for spec in CHECKS]
mart_checks = [
    _rows_check(asset, "key_unique_and_not_null", _key_sql(asset.replace("/", "."), cols), f"({', '.join(cols)}) is unique and not null")
    for asset, cols in MART_KEYS.items()
] + [_rows_check(*spec) for spec in RECONCILIATIONS]
