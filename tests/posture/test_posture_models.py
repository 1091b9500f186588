"""The sql/posture models: history as rows in posture_checks, readiness on generated scenarios."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from pipeline.generate import write_corpus
from pipeline.posture.result import CheckResult
from pipeline.settings import Settings
from pipeline.store.posture_history import record
from pipeline.store.warehouse import connect, ensure_schema
from pipeline.transform.sql_models import build_all
from tests.conftest import ingest_into, open_warehouse

DAY = dt.datetime(2026, 3, 1, 6, tzinfo=dt.timezone.utc)


def result(check, target, verdict, reason, day, domain="d.test", **facts):
    return CheckResult(check, domain, target, verdict, reason, f"{check} said {reason}", "raw", facts, DAY + dt.timedelta(days=day))


def built(rows: list[CheckResult]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_schema(con)
    if rows:
        con.executemany("insert into posture_checks values ('run', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [(r.checked_at, r.domain, r.check, r.target, r.verdict, r.reason, r.detail, r.raw,
                          json.dumps(r.facts)) for r in rows])
    build_all(con)
    return con


def test_certificate_problem_opens_and_resolves_when_a_later_check_passes():
    con = built([result("mx_certificate", "mx1.d.test", "warn", "certificate_expiring", 0),
                 result("mx_certificate", "mx1.d.test", "warn", "certificate_expiring", 1),
                 result("mx_certificate", "mx1.d.test", "ok", "valid", 2),
                 result("sts_policy", "https://mta-sts.d.test/.well-known/mta-sts.txt", "fail", "unreachable", 2)])
    rows = con.execute("select cause, status, resolved_on, first_seen, affected_mx_hosts from posture.posture_problems"
                       " order by cause").fetchall()
    assert rows == [("certificate_expiring", "resolved", dt.date(2026, 3, 3), dt.date(2026, 3, 1), ["mx1.d.test"]),
                    ("sts_policy_fetch_failed", "open", None, dt.date(2026, 3, 3), [])]


def test_posture_problems_have_the_columns_of_detect_problems():
    con = built([])
    columns = "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ? order by column_index"
    assert con.execute(columns, ["posture", "posture_problems"]).fetchall() == con.execute(columns, ["detect", "problems"]).fetchall()


def test_an_error_is_not_a_problem():
    con = built([result("starttls", "mx1.d.test", "error", "smtp_unreachable", 0)])
    assert con.execute("select count(*) from posture.posture_problems").fetchone() == (0,)


def test_latest_checks_say_since_when_and_drop_removed_targets():
    con = built([result("mx_coverage", "old.d.test", "ok", "covered", 0),
                 result("tlsrpt_txt", "_smtp._tls.d.test", "fail", "missing", 0),
                 result("tlsrpt_txt", "_smtp._tls.d.test", "ok", "valid", 1),
                 result("tlsrpt_txt", "_smtp._tls.d.test", "ok", "valid", 2)])
    con.execute("update posture_checks set run_id = 'last' where checked_at = ?", [DAY + dt.timedelta(days=2)])
    build_all(con)
    rows = con.execute("select check_name, verdict, verdict_since, is_current from posture.latest_checks order by 1").fetchall()
    assert rows == [("mx_coverage", "ok", DAY, False), ("tlsrpt_txt", "ok", DAY + dt.timedelta(days=1), True)]


def test_uncovered_mx_from_dns():
    policy = {"mode": "testing", "mx": ["mx1.d.test", "*.pool.d.test"]}
    con = built([result("sts_policy", "u", "ok", "valid", 0, **policy),
                 result("mx", "d.test", "ok", "found", 0, hosts=["mx1.d.test", "a.pool.d.test", "a.b.pool.d.test", "new.d.test"])])
    assert con.execute("select mx_host from posture.uncovered_mx order by 1").fetchall() == [("a.b.pool.d.test",), ("new.d.test",)]


def test_history_is_written_in_one_transaction(tmp_path):
    settings = Settings(data_dir=tmp_path)
    run_id = record(settings, [result("mx", "d.test", "ok", "found", 0, hosts=["mx1.d.test"])])
    con = connect(settings)
    assert con.execute("select run_id, check_name, facts from posture_checks").fetchall() == [(run_id, "mx", '{"hosts": ["mx1.d.test"]}')]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    # Seed 4: the cert-expiry domain and two clean domains publish mode testing.
    root = tmp_path_factory.mktemp("readiness")
    summary = write_corpus(root / "corpus", domains=4, days=30, seed=4, formats=("files",), scenarios=["cert-expiry"])
    ingest_into(root / "data", [root / "corpus" / "files"], workers=1)
    con = connect(Settings(data_dir=root / "data"))
    build_all(con)
    incidents = json.loads((root / "corpus" / "incidents.json").read_text())
    return con, incidents, summary


def test_readiness_names_the_failing_mx_and_says_not_ready(scenario):
    con, incidents, _ = scenario
    (incident,) = incidents["incidents"]
    verdict, hosts, fix = con.execute("select verdict, failing_mx_hosts, fix_first from posture.enforce_readiness"
                                      " where policy_domain = ?", [incident["policy_domain"]]).fetchone()
    assert (verdict, hosts) == ("not ready", incident["mx_hosts"])
    assert incident["mx_hosts"][0] in fix and "certificate" in fix.lower()


def test_readiness_of_a_clean_testing_domain_is_ready(scenario):
    con, incidents, _ = scenario
    rows = con.execute("select policy_domain, verdict, would_fail_sessions from posture.enforce_readiness"
                       " where policy_domain in (select unnest(?::varchar[]))", [incidents["clean_domains"]]).fetchall()
    assert rows and all(verdict == "ready" and failed == 0 for _, verdict, failed in rows)


def test_policy_adoption_says_who_applies_the_published_policy_since_when(scenario):
    con, incidents, _ = scenario
    domain = incidents["clean_domains"][0]
    reporter, strings, first_day = con.execute(
        "select reporter, policy_strings, first_day from marts.applied_policies where policy_domain = ? and policy_type = 'sts'"
        " order by last_day desc, reporter limit 1", [domain]).fetchone()
    con.execute("insert into posture_checks values ('r', now(), ?, 'sts_policy', 'u', 'ok', 'valid', '', ?, '{}')",
                [domain, "\r\n".join(reversed(strings)) + "\r\n"])  # another line order: the same policy
    build_all(con)
    row = con.execute("select applies_published, applying_since from posture.policy_adoption"
                      " where policy_domain = ? and reporter = ?", [domain, reporter]).fetchone()
    assert row == (True, first_day)


def test_policy_id_since_is_when_the_current_id_appeared():
    policy = {"mode": "testing", "mx": ["mx1.d.test"], "max_age": 604800}
    con = built([result("sts_txt", "_mta-sts.d.test", "ok", "valid", 0, policy_id="1"),
                 result("sts_txt", "_mta-sts.d.test", "ok", "valid", 1, policy_id="2"),
                 result("sts_txt", "_mta-sts.d.test", "ok", "valid", 2, policy_id="2"),
                 result("sts_policy", "u", "ok", "valid", 2, **policy)])
    assert con.execute("select published_policy_id, policy_id_since from posture.policy_adoption").fetchall() == [
        ("2", DAY + dt.timedelta(days=1))]


def test_watched_domains_are_the_configured_ones_then_the_reported_ones(tmp_path):
    from pipeline.posture.settings import PostureSettings
    from pipeline.store.posture_history import watched_domains

    ingest_into(tmp_path, [Path(__file__).parents[1] / "fixtures" / "reports"])
    settings = Settings(data_dir=tmp_path)
    con = open_warehouse(settings.data_dir)
    reported = {d for (d,) in con.execute("select distinct lower(policy_domain) from policies where policy_domain is not null").fetchall()}
    con.close()
    watched = watched_domains(settings, PostureSettings(domains=("mine.example",)))
    assert reported and watched[0] == "mine.example" and set(watched[1:]) == reported
    assert watched_domains(settings, PostureSettings(domains=("mine.example",), from_reports=False)) == ["mine.example"]
