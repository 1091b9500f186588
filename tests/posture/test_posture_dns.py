"""The DNS record checks against a real NSD: the good domain and each broken variant."""

from __future__ import annotations

import pytest

from pipeline.posture.dns_records import check_mx, check_sts_record, check_tlsrpt


@pytest.mark.parametrize("label, verdict, reason", [
    ("good", "ok", "valid"),
    ("multi", "fail", "multiple_records"),
    ("badrua", "fail", "bad_rua"),
    ("norua", "fail", "missing_rua"),
])
def test_tlsrpt_record(probe_config, label, verdict, reason):
    result = check_tlsrpt(f"{label}.example.test", probe_config().resolver())
    assert (result.check, result.verdict, result.reason) == ("tlsrpt_txt", verdict, reason), result.detail
    assert "v=TLSRPTv1" in result.raw


def test_tlsrpt_record_lists_report_addresses(probe_config):
    result = check_tlsrpt("good.example.test", probe_config().resolver())
    assert result.facts["rua"] == ["mailto:tlsrpt@example.test", "https://reports.example.test/tlsrpt"]


def test_tlsrpt_missing_domain_is_a_failure_not_an_error(probe_config):
    result = check_tlsrpt("nothing-here.example.test", probe_config().resolver())
    assert (result.verdict, result.reason) == ("fail", "missing")


def test_refused_answer_means_retry_not_absent(probe_config):
    # Outside the served zone NSD answers REFUSED: "could not tell", never "no record".
    result = check_tlsrpt("elsewhere.invalid", probe_config().resolver())
    assert (result.verdict, result.reason) == ("error", "dns_server_failure")


@pytest.mark.parametrize("label, verdict, reason", [
    ("good", "ok", "valid"),
    ("nosts", "warn", "missing"),
    ("twosts", "fail", "multiple_records"),
    ("badsts", "fail", "bad_id"),
])
def test_sts_record(probe_config, label, verdict, reason):
    result = check_sts_record(f"{label}.example.test", probe_config().resolver())
    assert (result.check, result.verdict, result.reason) == ("sts_txt", verdict, reason), result.detail


def test_sts_record_gives_the_policy_id(probe_config):
    assert check_sts_record("good.example.test", probe_config().resolver()).facts["policy_id"] == "20240101T000000"


def test_mx_records_in_preference_order(probe_config):
    result = check_mx("uncovered.example.test", probe_config().resolver())
    assert result.verdict == "ok"
    assert result.facts["hosts"] == ["mx.good.example.test", "a.mx.example.test", "backup.example.test"]


def test_mx_missing(probe_config):
    result = check_mx("mx.good.example.test", probe_config().resolver())
    assert (result.verdict, result.reason) == ("fail", "missing")


def test_dns_timeout_is_a_result(probe_config, tmp_path):
    # A port nobody answers on: the lookup times out and says so, within its lifetime.
    from tests.services import free_port

    result = check_tlsrpt("good.example.test", probe_config(dns_server=f"127.0.0.1:{free_port()}", dns_timeout=0.5).resolver())
    assert (result.verdict, result.reason) == ("error", "dns_timeout")
