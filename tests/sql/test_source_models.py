"""Source, policy and reporter marts: given rows -> expected rows, and real-corpus hand counts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline.store.warehouse import ensure_schema
from pipeline.transform.sql_models import build_all
from tests.conftest import ingest_into, open_warehouse, query
from tests.sql.test_models import add_report


@pytest.fixture
def warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_schema(con)
    return con


def set_contact(con, key: str, contact_domain: str, flags: list[str] = ()) -> None:
    con.execute("update reports set contact_domain = ?, conformance_flags = ? where report_key = ?", [contact_domain, list(flags), key])


def set_detail(con, key: str, index: int, ip: str, network: str, mx: str, receiving_ip: str) -> None:
    con.execute(
        "update failure_details set sending_mta_ip = ?, sending_mta_network = ?, receiving_mx_hostname = ?, receiving_ip = ?"
        " where report_key = ? and detail_index = ?", [ip, network, mx, receiving_ip, key, index])


def test_reporter_is_normalised_by_contact_domain(warehouse):
    add_report(warehouse, "g1", "Google Inc.", "2026-03-01", [(0, "sts", "example.com", 10, 0)])
    add_report(warehouse, "g2", "Google LLC", "2026-03-02", [(0, "sts", "example.com", 20, 0)])
    add_report(warehouse, "ru", "Mail.ru", "2026-03-01", [(0, "sts", "example.com", 5, 0)])
    add_report(warehouse, "st", "mx.relay.example", "2026-03-01", [(0, "sts", "example.com", 1, 0)])
    set_contact(warehouse, "g1", "google.com")
    set_contact(warehouse, "g2", "google.com")
    set_contact(warehouse, "ru", "corp.mail.ru")
    build_all(warehouse)
    reporters = warehouse.execute("select report_key, reporter from staging.reports order by 1").fetchall()
    assert reporters == [("g1", "google.com"), ("g2", "google.com"), ("ru", "mail.ru"), ("st", "relay.example")]


def test_reporter_is_the_registrable_domain_by_the_public_suffix_list(warehouse):
    """Not a guess from label lengths: gmx.de and web.de are registrable under .de, co.uk and
    co.jp are public suffixes."""
    names = {"gmx": ("GMX", "tlsrpt.gmx.de", "gmx.de"), "web": ("mail.web.de", None, "web.de"),
             "uk": ("Example UK", "reports.mail.example.co.uk", "example.co.uk"),
             "jp": ("x.mail.yahoo.co.jp", None, "yahoo.co.jp"), "io": ("mx.egressif.io", None, "egressif.io")}
    for key, (organization, contact, _) in names.items():
        add_report(warehouse, key, organization, "2026-03-01", [(0, "sts", "example.com", 1, 0)])
        if contact:
            set_contact(warehouse, key, contact)
    build_all(warehouse)
    reporters = dict(warehouse.execute("select report_key, reporter from staging.reports").fetchall())
    assert reporters == {key: expected for key, (_, _, expected) in names.items()}


def test_sources_by_reporter_and_by_host(warehouse):
    add_report(warehouse, "ms", "Microsoft Corporation", "2026-03-01",
               [(0, "sts", "example.com", 90, 10), (1, "tlsa", "example.com", 90, 10)],
               [(0, "certificate-expired", 6), (0, "starttls-not-supported", 4), (1, "certificate-expired", 6)])
    set_contact(warehouse, "ms", "microsoft.com")
    set_detail(warehouse, "ms", 0, "192.0.2.7", "192.0.2.0/24", "mx1.example.com", "198.51.100.1")
    set_detail(warehouse, "ms", 1, "192.0.2.8", "192.0.2.0/24", "mx2.example.com", "198.51.100.2")
    build_all(warehouse)
    by_reporter = warehouse.execute(
        "select reporter, h.organization_name, total_session_count, failed_session_count, top_result_types"
        " from marts.sources_by_reporter_daily join marts.reporter_health as h using (reporter)").fetchall()
    assert by_reporter == [("microsoft.com", "Microsoft Corporation", 100, 10, ["certificate-expired", "starttls-not-supported"])]
    by_host = warehouse.execute(
        "select sending_mta_network, receiving_mx_hostname, result_type, failed_session_count from marts.sources_by_host_daily"
        " order by 2, 3").fetchall()
    assert by_host == [
        ("(unknown)", "(unknown)", "certificate-expired", 6),  # the tlsa leg named no addresses
        ("192.0.2.0/24", "mx1.example.com", "certificate-expired", 6),
        ("192.0.2.0/24", "mx2.example.com", "starttls-not-supported", 4),
    ]


def test_sources_mart_rolls_up_and_expands(warehouse):
    add_report(warehouse, "g", "Google Inc.", "2026-03-01", [(0, "sts", "example.com", 40, 5)],
               [(0, "certificate-expired", 3), (0, "starttls-not-supported", 2)])
    set_contact(warehouse, "g", "google.com")
    set_detail(warehouse, "g", 0, "192.0.2.7", "192.0.2.0/24", "mx1.example.com", "198.51.100.1")
    set_detail(warehouse, "g", 1, "192.0.2.7", "192.0.2.0/24", "mx1.example.com", "198.51.100.1")
    build_all(warehouse)
    rows = warehouse.execute(
        "select source_level, sending_mta_ip, receiving_mx_hostname, total_session_count, failed_session_count, top_result_types"
        " from marts.sources order by source_level").fetchall()
    assert rows == [
        ("host", "192.0.2.7", "mx1.example.com", None, 5, ["certificate-expired", "starttls-not-supported"]),
        ("reporter", "*", "*", 45, 5, ["certificate-expired", "starttls-not-supported"]),
    ]


def test_applied_policies_keep_each_version_with_its_days(warehouse):
    for key, day, mode in (("a", "2026-03-01", "testing"), ("b", "2026-03-02", "testing"), ("c", "2026-03-03", "enforce")):
        add_report(warehouse, key, "Google Inc.", day, [(0, "sts", "example.com", 1, 0)])
        set_contact(warehouse, key, "google.com")
        warehouse.execute("update policies set sts_mode = ?, policy_strings = ['version: STSv1', 'mode: ' || ?] where report_key = ?",
                          [mode, mode, key])
    build_all(warehouse)
    versions = warehouse.execute(
        "select sts_mode, first_day::varchar, last_day::varchar, policy_count, is_latest_for_reporter"
        " from marts.applied_policies order by first_day").fetchall()
    assert versions == [("testing", "2026-03-01", "2026-03-02", 2, False), ("enforce", "2026-03-03", "2026-03-03", 1, True)]


def test_applied_policies_count_a_policy_in_another_line_order_once_as_first_written(warehouse):
    # Stalwart writes max_age before mx: the same policy (staging.policies' fingerprint), whose row
    # keeps the lines as the earliest report wrote them, whatever order the reports loaded in.
    lines = ["version: STSv1", "mode: enforce", "mx: mx1.example.com", "max_age: 86400"]
    stalwart = [lines[0], lines[1], lines[3], lines[2]]
    for key, day, strings in (("b", "2026-03-02", lines), ("a", "2026-03-01", stalwart), ("c", "2026-03-03", lines)):
        add_report(warehouse, key, "Google Inc.", day, [(0, "sts", "example.com", 1, 0)])
        set_contact(warehouse, key, "google.com")
        warehouse.execute("update policies set policy_strings = ? where report_key = ?", [strings, key])
    build_all(warehouse)
    rows = warehouse.execute("select policy_strings, first_day::varchar, last_day::varchar, policy_count"
                             " from marts.applied_policies").fetchall()
    assert rows == [(stalwart, "2026-03-01", "2026-03-03", 3)]


def test_reporter_health_counts_gaps_flags_and_duplicates(warehouse):
    for key, day, flags in (("a", "2026-03-01", []), ("b", "2026-03-02", ["naive_datetime"]), ("c", "2026-03-05", [])):
        add_report(warehouse, key, "Microsoft Corporation", day, [(0, "sts", "example.com", 1, 0)])
        set_contact(warehouse, key, "microsoft.com", flags)
    warehouse.execute(
        "insert into deliveries (delivery_id, batch_id, ingested_at, ingested_date, channel, origin, part_index,"
        " outcome, report_key, parser_version) values ('d1', 'b', now(), today(), 'file', 'x', 0, 'duplicate', 'a', '1')")
    build_all(warehouse)
    row = warehouse.execute(
        "select report_count, days_covered, missing_days, duplicate_deliveries, conformance_flags, conformance_score"
        " from marts.reporter_health").fetchone()
    assert row == (3, 3, 2, 1, {"naive_datetime": 1}, 66.7)


def test_real_corpus_sources_hand_counts(real_corpus: Path, tmp_path: Path):
    """Read off the JSON by hand: the RFC example's three failure details and their networks."""
    ingest_into(tmp_path, [real_corpus])
    con = open_warehouse(tmp_path, read_only=False)
    build_all(con)
    con.close()
    hosts = query(tmp_path, "select sending_mta_ip, sending_mta_network, receiving_mx_hostname, receiving_ip, result_type,"
                  " failed_session_count from marts.sources_by_host_daily where policy_domain = 'company-y.example' order by 6")
    assert hosts == [
        ("198.51.100.62", "198.51.100.0/24", "mx-backup.mail.company-y.example", "203.0.113.58", "validation-failure", 3),
        ("2001:db8:abcd:0012::1", "2001:db8:abcd:12::/64", "mx1.mail.company-y.example", "(unknown)", "certificate-expired", 100),
        ("2001:db8:abcd:0013::1", "2001:db8:abcd:13::/64", "mx2.mail.company-y.example", "203.0.113.56", "starttls-not-supported", 200),
    ]
    google = query(tmp_path, "select sum(report_count) from marts.sources_by_reporter_daily where reporter = 'google.com'")
    assert google == [(13,)]  # 13 distinct Google Inc. reports among the corpus files
    health = dict(query(tmp_path, "select reporter, report_count from marts.reporter_health"))
    assert health["microsoft.com"] == 7 and health["mail.ru"] == 1
