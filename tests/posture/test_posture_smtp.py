"""STARTTLS probes against real SMTP servers (aiosmtpd) with good and bad certificates, the TLSA
match against what the MX presents, and MX coverage by the policy, on loopback."""

from __future__ import annotations

import pytest

from pipeline.posture.run import check_domain, coverage_results
from pipeline.posture.starttls import probe_mx, starttls_results
from pipeline.posture.tlsa import check_tlsa

MX = "mx.good.example.test"


def probe(probe_config, kind: str, mx: str = MX, **overrides):
    config = probe_config(kind, **overrides)
    return starttls_results("good.example.test", mx, probe_mx(mx, config), config)


def test_valid_certificate(probe_config):
    starttls, cert = probe(probe_config, "valid")
    assert (starttls.verdict, starttls.reason) == ("ok", "offered")
    assert starttls.facts["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert (cert.check, cert.verdict, cert.reason) == ("mx_certificate", "ok", "valid"), cert.detail
    assert cert.facts["chain_trusted"] and cert.facts["name_match"] and cert.facts["days_to_expiry"] > 300
    assert MX in cert.facts["names"]


@pytest.mark.parametrize("kind, verdict, reason", [
    ("soon", "warn", "certificate_expiring"),
    ("expired", "fail", "certificate_expired"),
    ("wrongname", "fail", "certificate_name_mismatch"),
])
def test_bad_certificate(probe_config, kind, verdict, reason):
    starttls, cert = probe(probe_config, kind)
    assert starttls.verdict == "ok"  # TLS itself works: the certificate is the problem
    assert (cert.verdict, cert.reason) == (verdict, reason), cert.detail


def test_expired_certificate_still_shows_its_names(probe_config):
    _, cert = probe(probe_config, "expired")
    assert MX in cert.facts["names"] and cert.facts["days_to_expiry"] < 0


def test_untrusted_chain(probe_config, tmp_path):
    import trustme

    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    _, cert = probe(probe_config, "valid", ca_file=str(other))
    assert (cert.verdict, cert.reason) == ("fail", "certificate_untrusted")


def test_no_starttls(probe_config):
    (starttls,) = probe(probe_config, "plain")
    assert (starttls.verdict, starttls.reason) == ("fail", "starttls_not_offered")


def test_unreachable_mx_is_an_error_not_a_failure(probe_config):
    from tests.services import free_port

    (starttls,) = probe(probe_config, "valid", smtp_port=free_port())
    assert (starttls.verdict, starttls.reason) == ("error", "smtp_unreachable")


def test_tlsa_matches_the_presented_certificate(probe_config):
    config = probe_config("valid")
    result = check_tlsa("good.example.test", MX, probe_mx(MX, config).der, config.resolver())
    # NSD is authoritative, not a validating resolver: no AD bit, so a match is only a warning.
    assert (result.verdict, result.reason) == ("warn", "not_authenticated"), result.detail
    assert result.facts["matched"] and result.facts["authenticated"] is False


def test_tlsa_mismatch(probe_config):
    config = probe_config("valid")
    mx = "mx.badtlsa.example.test"
    result = check_tlsa("badtlsa.example.test", mx, probe_mx(mx, config).der, config.resolver())
    assert (result.verdict, result.reason) == ("fail", "tlsa_mismatch")


def test_no_tlsa_is_fine(probe_config):
    config = probe_config("valid")
    result = check_tlsa("uncovered.example.test", "backup.example.test", b"", config.resolver())
    assert (result.verdict, result.reason) == ("ok", "no_tlsa")


def test_mx_coverage_names_the_uncovered_host(probe_config):
    results = [r for r in check_domain("uncovered.example.test", probe_config()) if r.check == "mx_coverage"]
    verdicts = {r.target: (r.verdict, r.reason) for r in results}
    assert verdicts == {MX: ("ok", "covered"), "a.mx.example.test": ("ok", "covered"),
                        "backup.example.test": ("fail", "mx_not_in_policy")}


def test_wildcard_covers_one_label_only():
    policy = {"mode": "enforce", "mx": ["*.mx.example.test"]}
    results = coverage_results("d.test", ["a.mx.example.test", "a.b.mx.example.test", "mx.example.test"], policy)
    assert [r.verdict for r in results] == ["ok", "fail", "fail"]


def test_endless_greeting_is_cut_and_recorded(probe_config):
    # A hostile MX that never finishes its multi-line greeting: the probe's total deadline ends it.
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))

    def talk():
        conn, _ = listener.accept()
        try:
            while True:
                conn.sendall(b"220-" + b"x" * 100 + b"\r\n")
        except OSError:
            conn.close()

    threading.Thread(target=talk, daemon=True).start()
    try:
        (starttls,) = probe(probe_config, "valid", smtp_port=listener.getsockname()[1], deadline=1)
    finally:
        listener.close()
    assert (starttls.verdict, starttls.reason) == ("fail", "smtp_protocol_error")
    assert len(starttls.raw) <= 4096 + 64
