"""DKIM verdicts against keys served by a real NSD on loopback."""

from __future__ import annotations

from pathlib import Path

import dkim
import pytest

from pipeline.intake.dkim_check import Verifier, make_resolver
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
    verdict = Verifier(make_resolver(nsd.server)).verify(tampered, "example.test", None)
    assert (verdict.result, verdict.body_hash_ok, verdict.detail) == ("fail", False, "the body was changed after signing")


def test_unknown_selector_fails_and_unsigned_is_none(nsd, keys):
    verifier = Verifier(make_resolver(nsd.server))
    other = signed(keys, "plain").replace(b"s=plain", b"s=gone")
    assert verifier.verify(other, None, None).result == "fail"
    assert verifier.verify(MESSAGE, None, None).result == "none"


def test_unreachable_dns_is_temperror(keys):
    from tests.services import free_port

    verifier = Verifier(make_resolver(f"127.0.0.1:{free_port()}", lifetime=0.5))  # nothing listens there
    assert verifier.verify(signed(keys, "tlsrpt"), None, None).result == "temperror"


def _report_mail(keys, report_id: str, selector: str | None) -> bytes:
    import base64
    import gzip
    import json

    report = json.loads((Path(__file__).parents[1] / "fixtures" / "reports" / "google_report.json").read_text())
    report["report-id"] = report_id
    attachment = base64.encodebytes(gzip.compress(json.dumps(report).encode(), mtime=0)).decode().replace("\n", "\r\n")
    message = (
        "From: TLS Reporting <noreply-smtp-tls-reporting@example.test>\r\nTo: tlsrpt@fixture.test\r\n"
        f"Subject: Report Domain: fixture.test Submitter: example.test Report-ID: <{report_id}@example.test>\r\n"
        "TLS-Report-Domain: fixture.test\r\nTLS-Report-Submitter: example.test\r\n"
        f"Message-ID: <{report_id}@example.test>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type="tlsrpt"; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nA TLS report.\r\n"
        "--b\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment; filename="example.test!fixture.test!1772323200!1772409599.json.gz"\r\n\r\n{attachment}'
        "--b--\r\n"
    ).encode()
    return signed(keys, selector, message) if selector else message


def test_ingest_records_the_verdict_and_rebuilds_reuse_it(nsd, keys, tmp_path: Path, monkeypatch):
    import subprocess
    import sys

    from pipeline.ingest import ingest
    from pipeline.settings import Settings
    from tests.conftest import query

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "signed.eml").write_bytes(_report_mail(keys, "dkim-signed", "tlsrpt"))
    (inbox / "unsigned.eml").write_bytes(_report_mail(keys, "dkim-unsigned", None))
    (inbox / "tampered.eml").write_bytes(_report_mail(keys, "dkim-tampered", "plain").replace(b"A TLS report.", b"A changed report."))
    (inbox / "plain.json").write_text((Path(__file__).parents[1] / "fixtures" / "reports" / "google_report.json").read_text())
    data_dir = tmp_path / "data"
    ingest([inbox], Settings(data_dir=data_dir, workers=1, dns_server=nsd.server))
    rows = dict((r[0], r[1:]) for r in query(data_dir, "select report_id, dkim_result, dkim_domain, dkim_aligned, dkim_key_tlsrpt, trust from reports"))
    assert rows["dkim-signed"] == ("pass", "example.test", True, True, "dkim_verified")
    assert rows["dkim-unsigned"] == ("none", None, None, None, "unsigned_mail")
    assert rows["dkim-tampered"][0] == "fail" and rows["dkim-tampered"][-1] == "dkim_failed"
    assert rows["2026-03-01T00:00:00Z_fixture.test"] == (None, None, None, None, "unauthenticated")
    # A rebuild months later (keys gone from DNS) keeps the verdict taken on arrival.
    __import__("shutil").rmtree(data_dir / "lake")  # the landing zone alone
    env = {**__import__("os").environ, "TLSRPT_DNS_SERVER": "127.0.0.1:9"}
    subprocess.run([sys.executable, "-m", "pipeline", "rebuild", "--data-dir", str(data_dir)], check=True, env=env, capture_output=True)
    assert query(data_dir, "select dkim_result from reports where report_id = 'dkim-signed'") == [("pass",)]


def test_require_policy_quarantines_what_does_not_verify(nsd, keys, tmp_path: Path):
    from pipeline.ingest import ingest
    from pipeline.settings import Settings
    from tests.conftest import query

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "signed.eml").write_bytes(_report_mail(keys, "req-signed", "tlsrpt"))
    (inbox / "unsigned.eml").write_bytes(_report_mail(keys, "req-unsigned", None))
    summary = ingest([inbox], Settings(data_dir=tmp_path / "data", workers=1, dns_server=nsd.server, dkim_policy="require"))
    assert summary.loaded == 1 and summary.quarantined == {"dkim_required": 1}
    assert query(tmp_path / "data", "select report_id from reports") == [("req-signed",)]
