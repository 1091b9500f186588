"""DANE for SMTP (RFC 7672): the `_25._tcp.MX` TLSA records, whether they came DNSSEC-validated
(the AD bit of the resolver's answer), and whether one matches the certificate the MX presented."""

from __future__ import annotations

import hashlib

import dns.resolver
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pipeline.posture.dns_lookup import ask
from pipeline.posture.result import ERROR, FAIL, OK, WARN, CheckResult

# Usage 1 (PKIX-EE) and 3 (DANE-EE) name the end-entity certificate, which we hold. Usage 0/2
# name a CA in the chain, and Python 3.11's ssl does not expose the chain the server sent.
LEAF_USAGES = {1, 3}


def _selected(der: bytes, selector: int) -> bytes:
    if selector == 0:
        return der
    key = x509.load_der_x509_certificate(der).public_key()
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def matches(record, der: bytes) -> bool:
    if record.usage not in LEAF_USAGES or record.selector not in (0, 1) or record.mtype not in (0, 1, 2):
        return False
    data = _selected(der, record.selector)
    digest = {0: lambda b: b, 1: lambda b: hashlib.sha256(b).digest(), 2: lambda b: hashlib.sha512(b).digest()}[record.mtype]
    return digest(data) == record.cert


def check_tlsa(domain: str, mx: str, der: bytes, resolver: dns.resolver.Resolver) -> CheckResult:
    # The TLSA name always uses port 25 (RFC 7672 2.2), whatever port a test probes.
    answer = ask(resolver, f"_25._tcp.{mx}", "TLSA")
    facts = {"authenticated": answer.authenticated, "records": [r.to_text() for r in answer.records]}
    result = lambda verdict, reason, detail: CheckResult("tlsa", domain, mx, verdict, reason, detail, answer.raw, facts)  # noqa: E731
    if answer.error:
        return result(ERROR, answer.error, answer.detail)
    if answer.absent:
        return result(OK, "no_tlsa", f"no TLSA records at {answer.name}: DANE is not used for {mx}")
    if not der:
        return result(ERROR, "no_certificate", f"{mx} presented no certificate to compare with its TLSA records")
    matched = [r.to_text() for r in answer.records if matches(r, der)]
    facts["matched"] = matched
    leaf = [r for r in answer.records if r.usage in LEAF_USAGES]
    if matched and not answer.authenticated:
        return result(WARN, "not_authenticated", "TLSA matches, but the answer was not DNSSEC-validated (no AD bit): senders ignore it")
    if matched:
        return result(OK, "match", f"the certificate matches {matched[0][:60]}")
    if not leaf:
        return result(WARN, "trust_anchor_unchecked", "only CA (usage 0/2) TLSA records; the chain is not available to compare")
    return result(FAIL, "tlsa_mismatch", f"none of {len(leaf)} TLSA record(s) matches the certificate {mx} presents: DANE senders will not deliver")
