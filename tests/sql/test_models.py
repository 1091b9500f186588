"""SQL models: given rows -> expected rows, the counting rules, and hand counts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipeline.generate import write_corpus
from pipeline.store.warehouse import ensure_schema
from pipeline.transform.sql_models import build_all, load_models
from tests.conftest import ingest_into, open_warehouse, query

MARTS = ("marts.daily_outcomes", "marts.daily_domain_sessions", "marts.failures_by_result")


@pytest.fixture
def warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_schema(con)
    return con


def add_report(con, key: str, org: str, day: str, policies: list[tuple], details: list[tuple] = (),
               sts_mx: list[str] = ()) -> None:
    """policies: (index, type, domain, successful, failed); details: (policy index, result type, count);
    sts_mx: the mx lines of its sts policies (mode enforce, max_age one week)."""
    con.execute(
        "insert into reports (report_key, organization_name, report_id, contact_domain, start_at, end_at, report_date,"
        " channel, raw_sha256, part_index, content_sha256, policy_count, conformance_flags, parser_version, trust, batch_id)"
        " values (?, ?, ?, ?, ?::date, ?::date + 1, ?::date, 'file', 'x', 0, 'c', ?, [], '1', 'unauthenticated', 'b')",
        [key, org, key, None, day, day, day, len(policies)],
    )
    for index, kind, domain, ok, failed in policies:
        con.execute(
            "insert into policies (report_key, policy_index, report_date, policy_type, policy_domain, policy_strings,"
            " mx_host, sts_mx, tlsa_records, successful_session_count, failed_session_count,"
            " failure_detail_session_sum, failure_detail_count, has_totals_mismatch, batch_id)"
            " values (?, ?, ?::date, ?, ?, [], [], ?, [], ?, ?, 0, 0, false, 'b')",
            [key, index, day, kind, domain, list(sts_mx) if kind == "sts" else [], ok, failed],
        )
        con.execute(
            "update policies set sts_mode = 'enforce', sts_max_age = 604800"
            " where report_key = ? and policy_index = ? and policy_type = 'sts' and len(sts_mx) > 0", [key, index],
        )
    for number, (index, result, count) in enumerate(details):
        con.execute(
            "insert into failure_details (report_key, policy_index, detail_index, report_date, policy_domain,"
            " result_type, failed_session_count, batch_id) values (?, ?, ?, ?::date, (select policy_domain from policies"
            " where report_key = ? and policy_index = ?), ?, ?, 'b')",
            [key, index, number, day, key, index, result, count],
        )


def test_models_declare_grain_and_wire_dependencies():
    models = load_models()
    assert set(MARTS) <= set(models)
    assert "staging.policies" in models["marts.daily_outcomes"].deps
    assert all(model.grain for model in models.values())


def test_empty_warehouse_builds_every_mart_empty(warehouse):
    build_all(warehouse)
    for mart in MARTS:
        assert warehouse.execute(f"select count(*) from {mart}").fetchone() == (0,)


def test_microsoft_sts_and_tlsa_for_the_same_sessions_count_once(warehouse):
    add_report(warehouse, "ms", "Microsoft Corporation", "2026-03-01",
               [(0, "sts", "example.com", 10, 2), (1, "tlsa", "example.com", 10, 2)],
               [(0, "certificate-expired", 2), (1, "certificate-expired", 2)])
    build_all(warehouse)
    per_type = warehouse.execute(
        "select policy_type, total_session_count from marts.daily_outcomes order by 1").fetchall()
    assert per_type == [("sts", 12), ("tlsa", 12)]  # each policy type as stated
    assert warehouse.execute(
        "select total_session_count, failed_session_count from marts.daily_domain_sessions").fetchall() == [(12, 2)]
    assert warehouse.execute(
        "select failed_session_count, share_of_sessions from marts.failures_by_result").fetchall() == [(2, 2 / 12)]
    assert warehouse.execute("select sum(failed_session_count) from marts.sources_by_host_daily").fetchall() == [(2,)]
    assert warehouse.execute(
        "select source_level, sum(failed_session_count) from marts.sources group by 1 order by 1").fetchall() == [
        ("host", 2), ("reporter", 2)]


def test_legs_with_different_failures_count_the_largest_total_and_failures(warehouse):
    # The generator's scenario style: the same 10 sessions, a DANE failure only under tlsa.
    add_report(warehouse, "ms", "Microsoft Corporation", "2026-03-01",
               [(0, "sts", "example.com", 10, 0), (1, "tlsa", "example.com", 8, 2)], [(1, "tlsa-invalid", 2)])
    build_all(warehouse)
    assert warehouse.execute(
        "select successful_session_count, failed_session_count, total_session_count from marts.daily_domain_sessions"
    ).fetchall() == [(8, 2, 10)]
    assert warehouse.execute("select result_type, failed_session_count from marts.failures_by_result").fetchall() == [
        ("tlsa-invalid", 2)]


def test_failures_a_summary_counts_but_no_detail_names_are_shown_as_such(warehouse):
    add_report(warehouse, "t", "terse.example", "2026-03-01", [(0, "sts", "example.com", 10, 5)],
               [(0, "certificate-expired", 2)])
    build_all(warehouse)
    assert warehouse.execute(
        "select result_type, result_group, failed_session_count from marts.failures_by_result order by 1").fetchall() == [
        ("(no details given)", "none", 3), ("certificate-expired", "general", 2)]
    assert warehouse.execute(
        "select receiving_mx_hostname, sum(failed_session_count) from marts.sources_by_host_daily group by 1 order by 1"
    ).fetchall() == [("(unknown)", 5)]
    # Detection reads only what reports detail: no "new result type" out of the missing details.
    assert warehouse.execute(
        "select count(*) from detect.failure_rate_daily where result_type = '(no details given)'").fetchall() == [(0,)]


def test_totals_mismatch_keeps_stated_rates_and_detail_breakdown(warehouse):
    # Mail.ru style: the summary says 1 failure, the details list 1 + 1.
    add_report(warehouse, "ru", "Mail.ru", "2026-03-02", [(0, "sts", "example.com", 5, 1)],
               [(0, "sts-policy-fetch-error", 1), (0, "sts-policy-fetch-error", 1)])
    build_all(warehouse)
    assert warehouse.execute(
        "select failed_session_count, success_rate from marts.daily_outcomes").fetchall() == [(1, 5 / 6)]
    assert warehouse.execute(
        "select result_group, failed_session_count, share_of_day_failures from marts.failures_by_result"
    ).fetchall() == [("sts", 2, 1.0)]


def test_a_late_report_updates_its_past_day(tmp_path: Path):
    from tests.fixtures.builders import valid_report

    first, late = tmp_path / "first", tmp_path / "late"
    first.mkdir(), late.mkdir()
    (first / "a.json").write_bytes(valid_report("on-time"))
    report = json.loads(valid_report("late"))
    report["organization-name"], report["contact-info"] = "Late Sender", "tlsrpt@late.example"
    (late / "b.json").write_text(json.dumps(report))
    data_dir = tmp_path / "data"
    ingest_into(data_dir, [first])
    _rebuild(data_dir)
    before = query(data_dir, "select report_date, reporter_count, total_session_count from marts.daily_outcomes")
    ingest_into(data_dir, [late])
    _rebuild(data_dir)
    after = query(data_dir, "select report_date, reporter_count, total_session_count from marts.daily_outcomes")
    assert after[0][0] == before[0][0]  # the same (past) day
    assert after[0][1] == before[0][1] + 1 and after[0][2] == 2 * before[0][2]


def _rebuild(data_dir: Path) -> None:
    con = open_warehouse(data_dir, read_only=False)
    try:
        build_all(con)
    finally:
        con.close()


def test_demo_corpus_matches_the_generators_own_count(tmp_path: Path):
    """The generator counts in Python while it writes; the marts must agree."""
    corpus = tmp_path / "corpus"
    truth = write_corpus(corpus, domains=3, days=20, seed=11, formats=("files", "eml"))
    data_dir = tmp_path / "data"
    ingest_into(data_dir, [corpus / "files", corpus / "eml"], workers=2)
    _rebuild(data_dir)
    stated = query(data_dir, "select sum(successful_session_count), sum(failed_session_count) from marts.daily_outcomes")
    assert stated == [(truth.successful_sessions, truth.failed_sessions)]
    once = query(data_dir, "select sum(successful_session_count), sum(failed_session_count) from marts.daily_domain_sessions")
    assert once == [(truth.successful_sessions_dedup, truth.failed_sessions_dedup)]
    by_result = dict(query(data_dir, "select result_type, sum(failed_session_count) from marts.failures_by_result group by 1"))
    assert by_result == truth.failed_by_result_type_dedup
    # Per source: reports per reporter, and the reporter level of marts.sources against the stated
    # sessions counted once.
    per_reporter = dict(query(data_dir, "select organization_name, report_count from marts.reporter_health"))
    assert per_reporter == truth.reports_by_reporter
    sources = query(data_dir, "select sum(total_session_count) from marts.sources where source_level = 'reporter'")
    assert sources == [(truth.successful_sessions_dedup + truth.failed_sessions_dedup,)]


def test_real_corpus_hand_counts(real_corpus: Path, tmp_path: Path):
    """Numbers read off the JSON files by hand (not by SQL)."""
    ingest_into(tmp_path, [real_corpus])
    _rebuild(tmp_path)
    # mail.ru.json (2024-02-22, example.com): two sts-policy-fetch-error details of 1 each,
    # while its summary states 1 failed and 0 successful sessions.
    mailru = query(tmp_path, "select f.failed_session_count, d.failed_session_count, d.successful_session_count"
                   " from marts.failures_by_result f join marts.daily_outcomes d using (report_date, policy_domain)"
                   " where f.report_date = '2024-02-22' and f.policy_domain = 'example.com' and d.policy_type = 'sts'")
    assert mailru == [(2, 1, 0)]
    # cry-inc microsoft.json: random.net, sts 2 + tlsa 2 successful sessions for the same sessions.
    ms = query(tmp_path, "select total_session_count from marts.daily_domain_sessions where policy_domain = 'random.net'")
    assert ms == [(2,)]
    per_type = query(tmp_path, "select policy_type, total_session_count from marts.daily_outcomes where policy_domain = 'random.net' order by 1")
    assert per_type == [("sts", 2), ("tlsa", 2)]
    # The RFC example (company-y.example, 2016-04-01): 5326 successful, 303 failed; 100 expired,
    # 200 starttls-not-supported, 3 validation-failure.
    rfc = dict(query(tmp_path, "select result_type, failed_session_count from marts.failures_by_result where policy_domain = 'company-y.example'"))
    assert rfc == {"certificate-expired": 100, "starttls-not-supported": 200, "validation-failure": 3}
    assert query(tmp_path, "select successful_session_count, failed_session_count from marts.daily_domain_sessions"
                 " where policy_domain = 'company-y.example'") == [(5326, 303)]


def test_comments_naming_other_models_are_not_dependencies():
    models = load_models()
    # daily_outcomes' comments mention the counted-once marts; only its SQL reads staging.policies.
    assert models["marts.daily_outcomes"].deps == frozenset({"staging.policies"})


def test_two_stale_reports_of_one_reporter_on_one_day_are_one_anomaly(warehouse):
    # google.com keeps applying the first policy after microsoft.com applied a revised one
    # (stale_policy_days = 3 before), and sends two reports on the stale day.
    sts = [(0, "sts", "example.com", 10, 0)]
    add_report(warehouse, "g0", "google.com", "2026-03-01", sts, sts_mx=["mx1.example.com"])
    add_report(warehouse, "m1", "microsoft.com", "2026-03-02", sts, sts_mx=["mx2.example.com"])
    add_report(warehouse, "g5a", "google.com", "2026-03-06", sts, sts_mx=["mx1.example.com"])
    add_report(warehouse, "g5b", "google.com", "2026-03-06", sts, sts_mx=["mx1.example.com"])
    build_all(warehouse)
    stale = warehouse.execute(
        "select report_date, reporter, count(*), count(distinct anomaly_id) from detect.anomalies"
        " where detector = 'stale_policy' group by all").fetchall()
    assert stale == [(date(2026, 3, 6), "google.com", 1, 1)]
    assert warehouse.execute(
        "select anomaly_count from detect.problems where kind = 'stale_policy'").fetchall() == [(1,)]


def test_one_mta_sts_version_however_its_mx_lines_are_ordered_and_cased(warehouse):
    # staging.policies' policy_version: what the policy says, not how a sender wrote it. The same
    # mx lines in another order and case are one version, so google.com is not stale on day 6.
    sts = [(0, "sts", "example.com", 10, 0)]
    add_report(warehouse, "g0", "google.com", "2026-03-01", sts, sts_mx=["MX1.example.com", "mx2.example.com"])
    add_report(warehouse, "m1", "microsoft.com", "2026-03-02", sts, sts_mx=["mx2.example.com", "mx1.example.com"])
    add_report(warehouse, "g5", "google.com", "2026-03-06", sts, sts_mx=["MX1.example.com", "mx2.example.com"])
    build_all(warehouse)
    assert warehouse.execute("select count(distinct policy_version), bool_or(is_stale)"
                             " from detect.policy_versions_daily").fetchall() == [(1, False)]


def test_a_silence_states_the_learning_window_it_was_judged_on(warehouse):
    from datetime import timedelta

    from pipeline.detect.detection_config import DEFAULTS

    first = date(2026, 3, 1)
    for n in range(30):  # google.com reports 20 days, then stops; microsoft.com goes on
        day = (first + timedelta(days=n)).isoformat()
        add_report(warehouse, f"m{n}", "microsoft.com", day, [(0, "sts", "example.com", 10, 0)])
        if n < 20:
            add_report(warehouse, f"g{n}", "google.com", day, [(0, "sts", "example.com", 10, 0)])
    build_all(warehouse, thresholds={**DEFAULTS, "silence_learning_days": 30})
    assert warehouse.execute(
        "select reporter, baseline_from, baseline_to from detect.anomalies where detector = 'silent_reporter'"
    ).fetchall() == [("google.com", date(2026, 3, 20) - timedelta(days=30), date(2026, 3, 20))]
