"""Every real report in ../shared/corpus/real loads, and spot checks per sender style hold."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipeline.settings import Settings
from pipeline.transform.sql_models import refresh_all
from tests.conftest import ingest_into, query


@pytest.fixture(scope="module")
def warehouse(real_corpus: Path, tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("real")
    ingest_into(data_dir, [real_corpus], workers=2)
    return data_dir


def one(data_dir: Path, sql: str, params: list | None = None):
    rows = query(data_dir, sql, params)
    assert len(rows) == 1, rows
    return rows[0]


def test_every_report_file_loads_and_only_the_notes_are_quarantined(warehouse: Path, real_corpus: Path):
    inputs = sorted(p for p in real_corpus.rglob("*") if p.is_file())
    outcomes = dict(query(warehouse, "select outcome, count(*) from deliveries group by 1"))
    assert sum(outcomes.values()) == len(inputs)
    quarantined = query(warehouse, "select origin, reason_code from deliveries where outcome = 'quarantined'")
    assert [(Path(o).name, r) for o, r in quarantined] == [("SOURCES.md", "not_a_tls_report")]
    # 39 report files hold 28 distinct (organization, report-id) pairs: the RFC example alone
    # comes in 8 copies, and several mails repeat a .json beside them.
    assert one(warehouse, "select count(*) from reports") == (28,)
    assert outcomes == {"loaded": 28, "duplicate": 11, "quarantined": 1}


def test_mailru_totals_disagree_and_both_are_kept(warehouse: Path):
    row = one(
        warehouse,
        "select p.failed_session_count, p.failure_detail_session_sum, p.has_totals_mismatch, r.conformance_flags, r.start_at, r.end_at"
        " from reports r join policies p using (report_key) where r.organization_name = 'Mail.ru'",
    )
    assert row[:3] == (1, 2, True)
    assert "totals_mismatch" in row[3]
    assert row[5] - row[4] == (datetime(2, 1, 2) - datetime(2, 1, 1))  # end is the next midnight
    reasons = query(
        warehouse,
        "select failure_reason_code, sending_mta_ip, receiving_mx_hostname from failure_details d join reports r using (report_key)"
        " where r.organization_name = 'Mail.ru' order by 1",
    )
    assert reasons == [("bad https response code: 404", None, None), ("bad https response code: 500", None, None)]


def test_microsoft_naive_datetimes_are_utc_and_flagged(warehouse: Path):
    row = one(
        warehouse,
        "select start_at, conformance_flags, header_report_domain, received_at, channel from reports"
        " where report_id = '133198585438131172+test.xmox.nl'",
    )
    assert row[0] == datetime(2023, 1, 10, tzinfo=timezone.utc)
    assert "naive_datetime" in row[1]
    assert row[2] == "test.xmox.nl"
    assert row[3] == datetime(2023, 2, 3, 5, 9, 22, tzinfo=timezone.utc)  # the mail's Date header


def test_microsoft_double_encoded_tlsa_is_unwrapped(warehouse: Path):
    row = one(
        warehouse,
        "select p.policy_string_raw, p.policy_strings, p.tlsa_records, r.conformance_flags from policies p"
        " join reports r using (report_key) where r.report_id = '133925885310113267+random.net' and p.policy_type = 'tlsa'",
    )
    raw, strings, records, flags = row
    assert len(raw) == 1 and raw[0].startswith('["3 1 1 ')
    assert len(strings) == len(records) >= 2
    assert records[0]["usage"] == 3 and records[0]["selector"] == 1 and records[0]["matching_type"] == 1
    assert records[0]["association_data"] == strings[0].split()[3].lower()
    assert "tlsa_policy_string_double_encoded" in flags


def test_stalwart_style_null_contact_and_prefixed_mx_hosts(warehouse: Path):
    row = one(
        warehouse,
        "select r.contact_info, p.mx_host, p.sts_mode, p.sts_max_age, p.sts_mx, r.conformance_flags"
        " from reports r join policies p using (report_key) where r.organization_name = 'server.com'",
    )
    assert row[0] is None
    assert row[1] == ["mx.server.com"]  # "mx: " anonymisation prefix stripped
    assert row[2:5] == ("enforce", 86400, ["mx.server.com"])
    assert {"contact_info_missing", "mx_host_prefixed"} <= set(row[5])


def test_rfc_example_keeps_every_detail_field(warehouse: Path):
    rows = query(
        warehouse,
        "select result_type, failed_session_count, sending_mta_ip, receiving_ip, failure_reason_code, is_sending_mta_ip_valid"
        " from failure_details join reports using (report_key) where report_id = '5065427c-23d3-47ca-b6e0-946ea0e8c4be' order by 2",
    )
    assert rows == [
        ("validation-failure", 3, "198.51.100.62", "203.0.113.58", "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED", True),
        ("certificate-expired", 100, "2001:db8:abcd:0012::1", None, None, True),
        ("starttls-not-supported", 200, "2001:db8:abcd:0013::1", "203.0.113.56", None, True),
    ]
    copies = dict(query(
        warehouse,
        "select reason_code, count(*) from deliveries d join reports r using (report_key)"
        " where r.report_id = '5065427c-23d3-47ca-b6e0-946ea0e8c4be' group by 1",
    ))
    # The RFC example circulates in variants (mx-host as string or list, URL mangled or not).
    assert copies == {None: 1, "same_key_different_content": 6}


def test_fixture_quirks_unknown_types_missing_domain_missing_total(warehouse: Path):
    rows = query(
        warehouse,
        "select p.policy_type, p.policy_domain, p.failed_session_count, r.conformance_flags from policies p"
        " join reports r using (report_key) where r.report_id = '2019-04-14T00:00:00Z_example.org' order by p.policy_index",
    )
    assert [(t, d, f) for t, d, f, _ in rows] == [("no-policy-found", None, None), ("invalid-policy-type", None, None)]
    assert {"unknown_policy_type", "policy_domain_missing", "failure_session_count_missing"} <= set(rows[0][3])
    hand_edited = one(
        warehouse,
        "select result_type, sending_mta_ip, is_sending_mta_ip_valid, additional_information from failure_details"
        " join reports using (report_key) where report_id = '133988091029006454+josh.scot'",
    )
    assert hand_edited == ("Testing", "x.x.x.x", False, "testing.josh.scot")  # alias additional-info-uri


def test_google_mail_through_a_gateway_and_the_base64_copy(warehouse: Path):
    row = one(
        warehouse,
        "select p.policy_type, p.successful_session_count, r.header_submitter, r.channel"
        " from reports r join policies p using (report_key) where r.report_id = '2020-03-02T00:00:00Z_fastmaildmarc.com'",
    )
    assert row == ("no-policy-found", 343, "google.com", "file")
    copies = query(
        warehouse,
        "select split_part(origin, '/', -1), outcome, reason_code from deliveries d join reports r using (report_key)"
        " where r.report_id = '2020-03-02T00:00:00Z_fastmaildmarc.com' order by 1",
    )
    assert copies == [
        ("email.eml", "loaded", None),
        ("expected.json", "duplicate", "same_key_different_content"),  # a library's re-serialisation
        ("report.json", "duplicate", "same_report"),
        ("report.json.gz.b64", "duplicate", "same_report"),
    ]


def test_duckdb_totals_by_result_type(warehouse: Path):
    totals = dict(query(warehouse, "select result_type, sum(failed_session_count) from failure_details group by all"))
    assert totals == {
        "sts-policy-fetch-error": 6, "validation-failure": 9, "certificate-host-mismatch": 1,
        "Testing": 3, "certificate-expired": 202, "starttls-not-supported": 400,
    }


def test_reporters_are_registrable_domains_of_the_real_senders(warehouse: Path):
    refresh_all(Settings(data_dir=warehouse))
    reporters = dict(query(warehouse, "select distinct organization_name, reporter from staging.reports"))
    assert reporters == {
        "Google Inc.": "google.com", "Microsoft Corporation": "microsoft.com", "Mail.ru": "mail.ru",
        "server.com": "server.com", "Company-X": "company-x.example", "Example LLC.": "example-llc.com",
        "Example Inc.": "example.com", "Reporter Example": "reporter.example",
    }
