"""DKIM verdicts against keys served by a real NSD on loopback."""

from __future__ import annotations

from pathlib import Path

import dkim
import pytest

from pipeline.dkim_check import Verifier, make_resolver
from tests import dns_server

MESSAGE = (
    b"From: TLS Reporting <noreply-smtp-tls-reporting@example.test>\r\n"
    b"To: tlsrpt@customer.example\r\n"
    b"Subject: Report Domain: customer.example Submitter: example.test Report-ID: <1@example.test>\r\n"
    b"TLS-Report-Domain: customer.example\r\n"
    b"TLS-Report-Submitter: example.test\r\n"
    b"Message-ID: <1@example.test>\r\n"
    b"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
    b"Content-Type: text/plain\r\n\r\n"
    b"A TLS report would be attached here.\r\n"
)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dkim")
    return {name: dns_server.rsa_key(folder, name) for name in ("tlsrpt", "plain")}


@pytest.fixture(scope="module")
def nsd(keys):
    server = dns_server.start({
        "tlsrpt._domainkey": f"v=DKIM1; k=rsa; s=tlsrpt; p={keys['tlsrpt'][1]}",
        "plain._domainkey": f"v=DKIM1; k=rsa; p={keys['plain'][1]}",
    })
    yield server
    dns_server.stop(server)


def signed(keys, selector: str, message: bytes = MESSAGE) -> bytes:
    header = dkim.sign(message, selector.encode(), b"example.test", keys[selector][0],
                       include_headers=[b"from", b"to", b"subject", b"tls-report-domain", b"tls-report-submitter"])
    return header + message


def test_pass_aligned_with_tlsrpt_key(nsd, keys):
    verdict = Verifier(make_resolver(nsd.server)).verify(signed(keys, "tlsrpt"), "example.test", "example.test")
    assert (verdict.result, verdict.domain, verdict.selector, verdict.aligned, verdict.key_tlsrpt) == (
        "pass", "example.test", "tlsrpt", True, True)


def test_pass_without_s_tlsrpt_is_recorded_not_rejected(nsd, keys):
    verdict = Verifier(make_resolver(nsd.server)).verify(signed(keys, "plain"), "other.example", None)
    assert (verdict.result, verdict.aligned, verdict.key_tlsrpt) == ("pass", False, False)


def test_tampered_body_fails(nsd, keys):
    tampered = signed(keys, "tlsrpt").replace(b"would be attached", b"was replaced")
    assert Verifier(make_resolver(nsd.server)).verify(tampered, "example.test", None).result == "fail"


def test_unknown_selector_fails_and_unsigned_is_none(nsd, keys):
    verifier = Verifier(make_resolver(nsd.server))
    other = signed(keys, "plain").replace(b"s=plain", b"s=gone")
    assert verifier.verify(other, None, None).result == "fail"
    assert verifier.verify(MESSAGE, None, None).result == "none"


def test_unreachable_dns_is_temperror(keys):
    from tests.services import free_port

    verifier = Verifier(make_resolver(f"127.0.0.1:{free_port()}", lifetime=0.5))  # nothing listens there
    assert verifier.verify(signed(keys, "tlsrpt"), None, None).result == "temperror"
