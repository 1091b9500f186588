"""failure-details entries: who failed (sending IPs), where (MX, IP) and why (reason texts).

Each reporter words its reasons in its own dialect (Go errors for Mail.ru, OpenSSL X509_V_ERR_*
tokens, SMTP enhanced codes, Postfix tokens), because mapping free text to causes is one of the
warehouse's jobs. Sending IPs come only from the documentation ranges (RFC 5737 / RFC 3849).
"""

from __future__ import annotations

import random

from .world import Domain, STS_TYPES

# Sending MTAs per reporter: a few busy hosts and a long tail (the pool order is the Zipf rank).
SENDING_IPS = {
    "google": [f"192.0.2.{i}" for i in range(10, 60)]
    + [f"2001:db8:4860::{i:x}" for i in range(1, 9)],
    "microsoft": [f"198.51.100.{i}" for i in range(100, 200)]
    + [f"2001:db8:f403::{i:x}" for i in range(1, 17)],
    "mailru": [f"203.0.113.{i}" for i in range(10, 41)],
    "stalwart": ["203.0.113.250", "2001:db8:5a1::25"],
    "postfix": ["192.0.2.200", "192.0.2.201", "192.0.2.202", "2001:db8:7::25"],
}

_GET = 'Get "https://mta-sts.{d}/.well-known/mta-sts.txt": '  # Go's http.Client error prefix

# result-type -> {"*": generic texts, slug: that reporter's dialect}; {mx}, {d}, {t} are filled.
_REASONS: dict[str, dict[str, list[str]]] = {
    "starttls-not-supported": {
        "*": ["STARTTLS not offered",
              "4.7.5 STARTTLS is required but was not offered by the server"],
        "mailru": ["smtp: server doesn't support STARTTLS"],
        "postfix": ["starttls_not_offered"]},
    "certificate-host-mismatch": {
        "*": ["X509_V_ERR_HOSTNAME_MISMATCH", "certificate name does not match {mx}"],
        "mailru": ["x509: certificate is valid for mail.hosting.example, not {mx}"],
        "postfix": ["name_mismatch: subjectAltName does not match {mx}"]},
    "certificate-expired": {
        "*": ["X509_V_ERR_CERT_HAS_EXPIRED", "4.7.5 certificate has expired"],
        "mailru": ["x509: certificate has expired or is not yet valid: "
                   "current time {t} is after 2025-12-31T23:59:59Z"],
        "postfix": ["certificate_expired"]},
    "certificate-not-trusted": {
        "*": ["X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
              "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT", "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN"],
        "mailru": ["x509: certificate signed by unknown authority"],
        "postfix": ["untrusted_issuer: unable to get local issuer certificate"]},
    "validation-failure": {
        "*": ["4.7.5 TLS handshake failed", "tls handshake failure: unsupported protocol",
              "X509_V_ERR_UNSUPPORTED_SIGNATURE_ALGORITHM",
              'Certificate "{mx}" rejected: "key too small"'],  # embedded quotes (quirk 32)
        "mailru": ["remote error: tls: handshake failure",
                   "tls: server selected unsupported protocol version 301"],
        "postfix": ["tls_handshake_failure: SSL_accept error"]},
    "sts-policy-fetch-error": {
        "*": ["HTTP 404 Not Found", "connection refused", "connection timed out",
              "NXDOMAIN for mta-sts.{d}", "redirect not followed (301)"],
        "mailru": ["bad https response code: 404", "bad https response code: 500",
                   "bad https response code: 301",
                   _GET + "dial tcp: lookup mta-sts.{d}: no such host",
                   _GET + "context deadline exceeded"]},
    "sts-policy-invalid": {
        "*": ["policy syntax error: missing 'version: STSv1'", "invalid mode value",
              "no mx entries in policy", "unexpected media type text/html"],
        "mailru": ["invalid policy: unexpected content-type: text/html; charset=utf-8"]},
    "sts-webpki-invalid": {
        "*": ["certificate for mta-sts.{d} has expired",
              "certificate name does not match mta-sts.{d}",
              "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY"],
        "mailru": [_GET + "x509: certificate signed by unknown authority"]},
    "tlsa-invalid": {
        "*": ["no TLSA record matched the presented certificate",
              "tlsa-mismatch: 3 1 1 digest differs"],
        "postfix": ["dane_tlsa_no_match: no matching TLSA record for _25._tcp.{mx}"]},
    "dnssec-invalid": {
        "*": ["DNSSEC validation failed: RRSIG expired", "bogus DNSSEC response for _25._tcp.{mx}"],
        "postfix": ["dnssec_bogus: _25._tcp.{mx} TLSA lookup"]},
    "dane-required": {
        "*": ["no DNSSEC-validated TLSA records found for {mx}",
              "DANE required but TLSA lookup insecure"],
        "postfix": ["dane_required: no usable TLSA records for {mx}"]},
}

_EHLO = ("250-{mx}\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-ETRN\r\n{tls}"
         "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250 CHUNKING")


def reason(r: random.Random, slug: str, rt: str, dom: Domain, mx: str, when: str) -> str:
    table = _REASONS[rt]
    texts = table.get(slug) or table["*"]
    return r.choice(texts).format(mx=mx, d=dom.name, t=when)


def split_long_tail(r: random.Random, total: int, cap: int) -> list[int]:
    """Split `total` failed sessions over a Pareto-distributed number of details, largest first."""
    k = max(1, min(total, cap, int(r.paretovariate(1.2))))
    out = []
    for i in range(k - 1):
        left = total - sum(out)
        out.append(max(1, min(left - (k - 1 - i), round(left * r.uniform(0.45, 0.85)))))
    out.append(total - sum(out))
    return out


def details(r: random.Random, slug: str, rt: str, failed: int, dom: Domain, mx_idx: int | None,
            when: str) -> list[dict]:
    """failure-details for `failed` sessions of one result type, in the reporter's field style."""
    if rt in STS_TYPES and slug in ("microsoft", "mailru"):
        # Policy-fetch failures carry no IP or MX from these senders (quirk 26): one per reason.
        return [{"result-type": rt, "failed-session-count": n,
                 "failure-reason-code": reason(r, slug, rt, dom, "", when)}
                for n in split_long_tail(r, failed, 3)]
    pool = SENDING_IPS[slug]
    out = []
    for n in split_long_tail(r, failed, len(pool)):
        ip = pool[min(len(pool) - 1, int(r.paretovariate(1.0)) - 1)]  # busy hosts first
        d: dict = {"result-type": rt, "sending-mta-ip": ip}
        if slug == "google" and r.random() < 0.02:
            d["sending-mta-ip"] = ""  # seen once from Google in 2024 (quirk 26)
        k = mx_idx if mx_idx is not None else r.randrange(len(dom.mx))
        mx = dom.mx[k]
        if rt not in STS_TYPES:  # an MX was contacted
            d["receiving-mx-hostname"] = mx
            if slug == "postfix":
                tls = "" if rt == "starttls-not-supported" else "250-STARTTLS\r\n"
                d["receiving-mx-helo"] = _EHLO.format(mx=mx, tls=tls)  # whole reply (quirk 31)
            d["receiving-ip"] = dom.mx_v6[k] if ":" in ip else dom.mx_v4[k]
        d["failed-session-count"] = n
        if slug != "google" or rt in ("certificate-not-trusted", "validation-failure"):
            d["failure-reason-code"] = reason(r, slug, rt, dom, mx, when)
        out.append(d)
    return out
