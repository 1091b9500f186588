"""Rows are tuples in schema order (cheap to build): every value must sit under its own column.

One report whose every field holds a distinct value goes through the worker, on both parse
paths, and each column is read back by name."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from pipeline.intake.sources import InputRef
from pipeline.parse import fastpath, frames
from pipeline.parse.worker import process_chunk, process_input

REPORT = {
    "organization-name": "Org Name",
    "date-range": {"start-datetime": "2024-05-01T00:00:00Z", "end-datetime": "2024-05-01T23:59:59Z"},
    "contact-info": "mailto:someone@contact.example",
    "report-id": "the-report-id",
    "policies": [
        {
            "policy": {"policy-type": "no-policy-found", "policy-domain": "first.example"},
            "summary": {"total-successful-session-count": 11, "total-failure-session-count": 0},
        },
        {
            "policy": {
                "policy-type": "sts",
                "policy-string": ["version: STSv1", "mode: enforce", "mx: MX.Pattern.example.", "max_age: 604800"],
                "policy-domain": "Second.Example.",
                "mx-host": ["Listed.MX.example."],
            },
            "summary": {"total-successful-session-count": 22, "total-failure-session-count": 7},
            "failure-details": [
                {"result-type": "certificate-expired", "sending-mta-ip": "198.51.100.62",
                 "receiving-mx-hostname": "Recv.Host.example.", "receiving-mx-helo": "helo.example",
                 "receiving-ip": "not-an-ip", "failed-session-count": 3,
                 "additional-information": "https://info.example/x", "failure-reason-code": "X509_EXPIRED"},
                {"result-type": "starttls-not-supported", "sending-mta-ip": "2001:db8::1",
                 "receiving-mx-hostname": "other.example", "failed-session-count": 4},
            ],
        },
    ],
}
NAME = "reporter.example!second.example!1714521600!1714607999!001.json.gz"


@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "full path"])
def test_every_value_is_under_its_own_column(fast: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(fastpath, "ENABLED", fast)
    path = tmp_path / NAME
    path.write_bytes(gzip.compress(json.dumps(REPORT).encode()))
    (part,) = process_input(InputRef(str(path), "file", str(path))).parts
    report_row, policy_rows, detail_rows = part.rows
    report = frames.named("reports", report_row)
    key = report["report_key"]
    assert report == {
        "report_key": key, "organization_name": "Org Name", "report_id": "the-report-id",
        "contact_info": "mailto:someone@contact.example", "contact_domain": "contact.example",
        "start_at": datetime(2024, 5, 1, tzinfo=timezone.utc),
        "end_at": datetime(2024, 5, 1, 23, 59, 59, tzinfo=timezone.utc),
        "report_date": date(2024, 5, 1), "received_at": report["received_at"], "channel": "file",
        "raw_sha256": report["raw_sha256"], "part_index": 0, "content_sha256": report["content_sha256"],
        "policy_count": 2, "header_report_domain": None, "header_submitter": None, "message_id": None,
        "subject": None, "attachment_name": None, "conformance_flags": ["ip_invalid"], "parser_version": "1",
        "dkim_result": None, "dkim_domain": None, "dkim_aligned": None, "dkim_key_tlsrpt": None,
        "trust": "unauthenticated",
    }
    assert len(key) == 32 and len(report["raw_sha256"]) == len(report["content_sha256"]) == 64
    assert report["raw_sha256"] != report["content_sha256"]
    assert isinstance(report["received_at"], datetime)
    first, second = (frames.named("policies", row) for row in policy_rows)
    assert first == {
        "report_key": key, "policy_index": 0, "report_date": date(2024, 5, 1), "policy_type": "no-policy-found",
        "policy_domain": "first.example", "policy_domain_source": "report", "policy_string_raw": None,
        "policy_strings": [], "mx_host": [], "sts_mode": None, "sts_max_age": None, "sts_mx": [],
        "tlsa_records": [], "successful_session_count": 11, "failed_session_count": 0,
        "failure_detail_session_sum": 0, "failure_detail_count": 0, "has_totals_mismatch": False,
    }
    assert second == {
        "report_key": key, "policy_index": 1, "report_date": date(2024, 5, 1), "policy_type": "sts",
        "policy_domain": "second.example", "policy_domain_source": "report",
        "policy_string_raw": REPORT["policies"][1]["policy"]["policy-string"],
        "policy_strings": REPORT["policies"][1]["policy"]["policy-string"], "mx_host": ["listed.mx.example"],
        "sts_mode": "enforce", "sts_max_age": 604800, "sts_mx": ["mx.pattern.example"], "tlsa_records": [],
        "successful_session_count": 22, "failed_session_count": 7, "failure_detail_session_sum": 7,
        "failure_detail_count": 2, "has_totals_mismatch": False,
    }
    expired, starttls = (frames.named("failure_details", row) for row in detail_rows)
    assert expired == {
        "report_key": key, "policy_index": 1, "detail_index": 0, "report_date": date(2024, 5, 1),
        "policy_domain": "second.example", "result_type": "certificate-expired", "failed_session_count": 3,
        "sending_mta_ip": "198.51.100.62", "is_sending_mta_ip_valid": True, "sending_mta_network": "198.51.100.0/24",
        "receiving_mx_hostname": "recv.host.example", "receiving_mx_helo": "helo.example",
        "receiving_ip": "not-an-ip", "is_receiving_ip_valid": False,
        "additional_information": "https://info.example/x", "failure_reason_code": "X509_EXPIRED",
    }
    assert (starttls["detail_index"], starttls["sending_mta_network"], starttls["is_receiving_ip_valid"]) == (
        1, "2001:db8::/64", None)


def test_chunk_tables_carry_the_rows_and_their_parts(tmp_path: Path):
    path = tmp_path / NAME
    path.write_bytes(gzip.compress(json.dumps(REPORT).encode()))
    chunk = process_chunk([InputRef(str(path), "file", str(path)), InputRef(str(tmp_path / "gone"), "file", "gone")])
    inputs, parts = chunk.table("inputs").to_pylist(), chunk.table("parts").to_pylist()
    assert [(i["input_no"], i["origin"], i["kind"]) for i in inputs] == [(0, str(path), "gzip"), (1, "gone", None)]
    assert inputs[0]["data"] == path.read_bytes() and inputs[1]["data"] is None
    assert [(p["input_no"], p["part_id"], p["loadable"], p["reason_code"], p["report_date"]) for p in parts] == [
        (0, 0, True, None, "2024-05-01"), (1, 1, False, "unreadable", None)]
    assert chunk.table("reports").column("report_id").to_pylist() == ["the-report-id"]
    assert chunk.table("policies").column("policy_domain").to_pylist() == ["first.example", "second.example"]
    assert chunk.table("failure_details").column(frames.PART_COLUMN).to_pylist() == [0, 0]


def test_a_row_of_the_wrong_width_is_refused():
    with pytest.raises(ValueError, match="columns"):
        frames.named("reports", ("only", "three", "values"))
    with pytest.raises(ValueError):
        frames.table("policies", [("too", "short")])


def test_remembered_texts_flag_every_report_that_holds_them(tmp_path: Path):
    """Date-range texts and MX host lists are remembered between reports (flatten, fastpath):
    the second report with the same quirks must be flagged like the first, and a report
    without failure details in between must not shift the part ids of the others' rows."""
    quirky = json.loads(json.dumps(REPORT))
    quirky["date-range"] = {"start-datetime": "2024-05-01T00:00:00", "end-datetime": "2024-05-01T23:59:59"}
    quirky["policies"][1]["policy"]["mx-host"] = ["mx: Listed.MX.example."]
    plain = json.loads(json.dumps(REPORT))
    del plain["policies"][1]["failure-details"]
    plain["policies"][1]["summary"]["total-failure-session-count"] = 0
    refs = []
    for number, report in enumerate([quirky, plain, quirky]):
        path = tmp_path / f"{number}.json"
        path.write_bytes(json.dumps({**report, "report-id": f"id-{number}"}).encode())
        refs.append(InputRef(str(path), "file", str(path)))
    chunk = process_chunk(refs)
    flags = chunk.table("reports").column("conformance_flags").to_pylist()
    assert ["mx_host_prefixed" in f and "naive_datetime" in f for f in flags] == [True, False, True]
    assert chunk.table("policies").column("mx_host").to_pylist() == [[], ["listed.mx.example"]] * 3
    assert chunk.table("policies").column(frames.PART_COLUMN).to_pylist() == [0, 0, 1, 1, 2, 2]
    assert chunk.table("failure_details").column(frames.PART_COLUMN).to_pylist() == [0, 0, 2, 2]
