"""DKIM verdicts for mailed reports (RFC 8460 section 3: reports MUST be DKIM-signed by the
reporting domain; the key SHOULD carry `s=tlsrpt`, real keys do not).

The verdict is taken once, when a mail first arrives (keys rotate: a signature that verifies today
fails in a year), and stored with the arrival in the landing pack, so a rebuild reuses it instead
of asking DNS again. Nothing is dropped for a bad verdict unless the operator asks for it
(`TLSRPT_DKIM_POLICY=require`); by default the verdict is recorded and can be filtered on.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, fields
from functools import lru_cache

import dkim
import dns.exception
import dns.resolver
from dkim.canonicalization import CanonicalizationPolicy

_TAG = re.compile(rb"(?:^|;)\s*([a-z]+)\s*=\s*([^;]*)")


@dataclass(frozen=True)
class DkimVerdict:
    result: str  # pass | fail | none (unsigned) | temperror (keys could not be fetched)
    domain: str | None = None  # the signing domain, d=
    selector: str | None = None
    aligned: bool | None = None  # d= is the submitter's / From domain or a parent of it
    key_tlsrpt: bool | None = None  # the key record names the tlsrpt service (s=tlsrpt)
    body_hash_ok: bool | None = None  # the body still matches bh=: False means it was changed after signing
    detail: str | None = None

    def as_dict(self) -> dict:
        if self is _UNSIGNED:  # nearly every mail: a copy of its dict made once
            return _UNSIGNED_DICT.copy()
        # not dataclasses.asdict: its deep copy was a third of the verdict's cost for an unsigned mail
        return {name: getattr(self, name) for name in _VERDICT_FIELDS}


_VERDICT_FIELDS = tuple(field.name for field in fields(DkimVerdict))
# The verdict of a mail without a signature, made once: a frozen dataclass sets each of its seven
# fields through object.__setattr__ (~1 us), and building its dict cost as much again.
_UNSIGNED = DkimVerdict("none")
_UNSIGNED_DICT = {name: getattr(_UNSIGNED, name) for name in _VERDICT_FIELDS}


def make_resolver(server: str | None, lifetime: float = 4.0) -> dns.resolver.Resolver:
    """`server` "ip[:port]" (a test's loopback NSD, or a chosen validating resolver); None: the
    system's resolver."""
    if not server:
        resolver = dns.resolver.Resolver()
    else:
        host, _, port = server.partition(":")
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = int(port or 53)
    resolver.timeout, resolver.lifetime = min(2.0, lifetime), lifetime
    return resolver


def _tags(value: bytes) -> dict[bytes, bytes]:
    return {k: b"".join(v.split()) for k, v in _TAG.findall(value)}


def _body_hash_ok(checker: dkim.DKIM) -> bool | None:
    """Recompute bh= without any DNS: tells "the body was changed" (gateway banners, anonymised
    copies) apart from "the key or headers do not match"."""
    try:
        prepared = checker.verify_headerprep(0)
    except dkim.DKIMException:
        prepared = None
    if not prepared:
        return None
    signature = prepared[0]
    policy = CanonicalizationPolicy.from_c_value(signature.get(b"c", b"simple/simple"))
    body = policy.canonicalize_body(checker.body)
    if b"l" in signature:
        body = body[: int(signature[b"l"])]
    digest = hashlib.sha1 if signature.get(b"a") == b"rsa-sha1" else hashlib.sha256
    return base64.b64encode(digest(body).digest()) == b"".join(signature.get(b"bh", b"").split())


def has_signature_line(message: bytes) -> bool:
    """Whether a line of the message (header or body: dkimpy is asked whenever one does) begins
    with `DKIM-Signature:` in any case: what a multiline, case-insensitive `^DKIM-Signature:`
    search answers. That search tried a match at every byte (7 us a report mail), and
    lowercasing the whole mail to look for the name first cost ~1.2 us; `_SIGNATURE_LINE` starts
    with a line break, which the regular expression engine finds with a fast scan (~0.7 us)."""
    return message[:15].lower() == b"dkim-signature:" or _SIGNATURE_LINE.search(message) is not None


_SIGNATURE_LINE = re.compile(rb"\ndkim-signature:", re.I)


def _aligned(domain: str, *candidates: str | None) -> bool:
    for candidate in filter(None, candidates):
        candidate = candidate.strip().strip(".").lower()
        if candidate == domain or candidate.endswith("." + domain):
            return True
    return False


class Verifier:
    """One per worker process: key lookups are cached per name (one DNS question per selector)."""

    def __init__(self, resolver: dns.resolver.Resolver) -> None:
        self._resolver = resolver
        self.lookup = lru_cache(maxsize=4096)(self._lookup)

    def _lookup(self, name: str) -> bytes | None:
        try:
            answer = self._resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        return b"".join(b"".join(record.strings) for record in answer)

    def verify(self, message: bytes, submitter: str | None, from_domain: str | None) -> DkimVerdict:
        if not has_signature_line(message):
            return _UNSIGNED
        keys: dict[str, bytes | None] = {}

        def dnsfunc(name, timeout=5):  # dkimpy's callback: the TXT of <selector>._domainkey.<domain>
            text = name.decode() if isinstance(name, bytes) else name
            keys[text] = self.lookup(text.rstrip("."))
            return keys[text]

        # tlsrpt=True: accept keys for the tlsrpt service (s=tlsrpt) as well as ordinary mail keys.
        checker = dkim.DKIM(message, tlsrpt=True)
        body_ok = _body_hash_ok(checker)
        try:
            ok = checker.verify(dnsfunc=dnsfunc)
        except (dns.exception.DNSException, dkim.DnsTimeoutError) as exc:
            return DkimVerdict("temperror", body_hash_ok=body_ok, detail=f"key lookup failed: {exc}"[:300])
        except dkim.DKIMException as exc:
            if body_ok is False:
                detail = "the body was changed after signing"
            elif "x= value is past" in str(exc):
                detail = "the signature has expired (x= is in the past)"
            else:
                detail = str(exc)[:300]
            return DkimVerdict("fail", body_hash_ok=body_ok, detail=detail)
        domain = (checker.domain or b"").decode(errors="replace").lower() or None
        selector = (checker.selector or b"").decode(errors="replace") or None
        key_text = next(iter(keys.values()), None)
        key_tlsrpt = None if key_text is None else b"tlsrpt" in _tags(key_text).get(b"s", b"").split(b":")
        if key_text is None and not ok:
            return DkimVerdict("fail", domain, selector, body_hash_ok=body_ok, detail="no DKIM key published for the selector")
        reason = "the body was changed after signing" if body_ok is False else "the signature does not match the key"
        return DkimVerdict(
            "pass" if ok else "fail", domain, selector,
            aligned=_aligned(domain, submitter, from_domain) if domain else None,
            key_tlsrpt=key_tlsrpt, body_hash_ok=body_ok,
            detail=None if ok else reason,
        )
