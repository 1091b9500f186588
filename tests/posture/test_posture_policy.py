"""The MTA-STS policy fetch against a real HTTPS host with a test CA: each way it can go wrong."""

from __future__ import annotations

import pytest

from pipeline.posture.policy_fetch import check_policy
from pipeline.posture.sts_policy import parse_policy


@pytest.mark.parametrize("label, reason", [
    ("expired", "certificate_expired"),
    ("wrongname", "certificate_name_mismatch"),
    ("redirect", "redirect"),
    ("missing", "http_status"),
    ("html", "wrong_content_type"),
    ("huge", "too_large"),
    ("binary", "not_text"),
    ("badpolicy", "bad_mode"),
    ("slow", "timeout"),
])
def test_broken_policy_host(probe_config, label, reason):
    result, policy = check_policy(f"{label}.example.test", probe_config(deadline=1))
    assert (result.check, result.verdict, result.reason) == ("sts_policy", "fail", reason), result.detail
    assert policy == {}
    assert len(result.raw) < 5000  # a hostile answer is kept capped


def test_good_policy(probe_config):
    result, policy = check_policy("good.example.test", probe_config())
    assert (result.verdict, result.reason) == ("ok", "valid"), result.detail
    assert policy == {"version": "STSv1", "mode": "testing", "mx": ["mx.good.example.test", "*.mx.example.test"], "max_age": 604800}
    assert result.target == "https://mta-sts.good.example.test/.well-known/mta-sts.txt"


def test_untrusted_ca(probe_config, tmp_path):
    import trustme

    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    result, _ = check_policy("good.example.test", probe_config(ca_file=str(other)))
    assert (result.verdict, result.reason) == ("fail", "certificate_untrusted")


def test_unreachable_host(probe_config):
    from tests.services import free_port

    result, _ = check_policy("good.example.test", probe_config(https_port=free_port()))
    assert (result.verdict, result.reason) == ("fail", "unreachable")


def test_bad_policy_names_every_problem():
    policy = parse_policy("version: STSv2\nmode: strict\nmax_age: 99999999999\nbogus line\n")
    assert [code for code, _ in policy.problems] == ["syntax_error", "bad_version", "bad_mode", "max_age_out_of_range"]


def test_policy_without_mx_in_enforce():
    assert [c for c, _ in parse_policy("version: STSv1\nmode: enforce\nmax_age: 604800\n").problems] == ["missing_mx"]


def test_short_max_age_is_a_warning_only():
    policy = parse_policy("version: STSv1\r\nmode: none\r\nmax_age: 60\r\n")
    assert policy.valid and policy.warnings[0][0] == "max_age_short"
