"""The test domains under example.test: `good` publishes everything right; every other label
breaks one thing. Zone lines for NSD and the policy host's answers per Host name."""

from __future__ import annotations

import hashlib
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.posture.servers import trickle

GOOD_POLICY = b"version: STSv1\r\nmode: testing\r\nmx: mx.good.example.test\r\nmx: *.mx.example.test\r\nmax_age: 604800\r\n"
DOMAINS = ("good", "multi", "badrua", "norua", "nosts", "twosts", "badsts", "uncovered", "badtlsa",
           "expired", "wrongname", "redirect", "missing", "html", "huge", "binary", "badpolicy", "slow", "setup")
MX_HOSTS = ("mx.good", "a.mx", "backup", "mx.badtlsa")
VALID_NAMES = [f"mta-sts.{d}.example.test" for d in DOMAINS if d not in ("expired", "wrongname")] + \
              [f"{h}.example.test" for h in MX_HOSTS]
TLSRPT = "v=TLSRPTv1; rua=mailto:tlsrpt@example.test,https://reports.example.test/tlsrpt"


def spki_sha256(pem: bytes) -> str:
    der = ssl.PEM_cert_to_DER_cert(pem.decode())
    key = x509.load_der_x509_certificate(der).public_key()
    return hashlib.sha256(key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()


def zone_lines(valid_pem: bytes) -> list[str]:
    lines = [f"{h} IN A 127.0.0.1" for h in MX_HOSTS]
    for domain in DOMAINS:
        lines.append(f"mta-sts.{domain} IN A 127.0.0.1")
        if domain not in ("multi", "badrua", "norua", "setup"):
            lines.append(f'_smtp._tls.{domain} IN TXT "{TLSRPT}"')
        if domain not in ("nosts", "twosts", "badsts", "setup"):
            lines.append(f'_mta-sts.{domain} IN TXT "v=STSv1; id=20240101T000000;"')
        if domain not in ("uncovered", "badtlsa", "setup"):
            lines.append(f"{domain} IN MX 10 mx.good")
    lines += [
        f'_smtp._tls.multi IN TXT "{TLSRPT}"', '_smtp._tls.multi IN TXT "v=TLSRPTv1; rua=mailto:other@example.test"',
        '_smtp._tls.badrua IN TXT "v=TLSRPTv1; rua=tlsrpt@example.test"',
        '_smtp._tls.norua IN TXT "v=TLSRPTv1;"', '_smtp._tls.norua IN TXT "some unrelated text"',
        '_mta-sts.twosts IN TXT "v=STSv1; id=1;"', '_mta-sts.twosts IN TXT "v=STSv1; id=2;"',
        '_mta-sts.badsts IN TXT "v=STSv1; id=not-alphanumeric!;"',
        "uncovered IN MX 10 mx.good", "uncovered IN MX 20 a.mx", "uncovered IN MX 30 backup",
        "badtlsa IN MX 10 mx.badtlsa", "setup IN MX 10 mx.good", "setup IN MX 20 backup",
        f"_25._tcp.mx.good IN TLSA 3 1 1 {spki_sha256(valid_pem)}",
        f"_25._tcp.mx.badtlsa IN TLSA 3 1 1 {'00' * 32}",
    ]
    return lines


def policy_answers() -> dict[str, tuple]:
    text = {"Content-Type": "text/plain; charset=utf-8"}
    answers = {f"mta-sts.{d}.example.test": (200, text, GOOD_POLICY) for d in DOMAINS}
    answers |= {
        "mta-sts.redirect.example.test": (301, {"Location": "https://elsewhere.example.test/"}, b""),
        "mta-sts.missing.example.test": (404, text, b"not here"),
        "mta-sts.html.example.test": (200, {"Content-Type": "text/html"}, b"<html>" + GOOD_POLICY + b"</html>"),
        "mta-sts.huge.example.test": (200, text, GOOD_POLICY + b"#" * (1024 * 1024)),
        "mta-sts.binary.example.test": (200, text, bytes(range(256)) * 4),
        "mta-sts.badpolicy.example.test": (200, text, b"version: STSv1\r\nmode: strict\r\nmx: mx.good.example.test\r\nmax_age: 99999999999\r\n"),
        "mta-sts.slow.example.test": (200, text, trickle),
    }
    return answers
