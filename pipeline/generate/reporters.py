"""The five reporter styles and their daily cadence.

Each reporter is data (names, volumes, gzip header bytes, line endings) plus a few slug-keyed
branches in reports.py / envelope.py. Identity strings use the real providers' names because the
warehouse must recognise them; everything about *our* side uses reserved .test/.example names.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from statistics import NormalDist
from typing import NamedTuple

from .world import DANE_TYPES, S_DAY, STS_TYPES, Day, Domain, active, rng_for


@dataclass(frozen=True, slots=True)
class Reporter:
    slug: str  # folder name under files/ and eml/
    org: str  # organization-name
    contact: str | None  # contact-info (Stalwart sends null)
    sender: str  # first field of the RFC file name
    submitter: str  # TLS-Report-Submitter header and Subject
    mail_from: str  # From: address (also the mbox envelope sender)
    reach: float  # share of our domains that receive mail from this reporter
    volume: float  # mean sessions per day, relative to the domain's scale
    dane: bool  # applies DANE when the domain has TLSA records
    next_midnight: bool  # end-datetime is the next day 00:00:00Z (else 23:59:59Z)
    crlf: bool  # stored messages keep CRLF line endings
    gz_level: int
    gz_xfl: int  # gzip header XFL byte as the real sender writes it
    gz_os: int  # gzip header OS byte
    report_type_quoted: bool  # report-type="tlsrpt" vs report-type=tlsrpt


GOOGLE = Reporter(
    slug="google", org="Google Inc.", contact="smtp-tls-reporting@google.com",
    sender="google.com", submitter="google.com", mail_from="noreply-smtp-tls-reporting@google.com",
    reach=1.0, volume=6.0, dane=False, next_midnight=False, crlf=False,
    gz_level=6, gz_xfl=0, gz_os=0, report_type_quoted=False)
MICROSOFT = Reporter(
    slug="microsoft", org="Microsoft Corporation", contact="tlsrpt-noreply@microsoft.com",
    sender="microsoft.com", submitter="microsoft.com", mail_from="tlsrpt-noreply@microsoft.com",
    reach=0.85, volume=3.0, dane=True, next_midnight=False, crlf=True,
    gz_level=1, gz_xfl=4, gz_os=0, report_type_quoted=False)
MAILRU = Reporter(
    slug="mailru", org="Mail.ru", contact="tls_support@corp.mail.ru",
    sender="mail.ru", submitter="mail.ru", mail_from="tls_support@corp.mail.ru",
    reach=0.35, volume=0.3, dane=False, next_midnight=True, crlf=False,
    gz_level=6, gz_xfl=0, gz_os=255, report_type_quoted=True)  # Go compress/gzip header
# Stalwart: the organisation is the host name; contact-info is null (quirk 19).
STALWART = Reporter(
    slug="stalwart", org="mx.relay-3.example", contact=None,
    sender="mx.relay-3.example", submitter="mx.relay-3.example",
    mail_from="noreply-tls@relay-3.example",
    reach=0.3, volume=0.15, dane=True, next_midnight=True, crlf=True,
    gz_level=6, gz_xfl=0, gz_os=255, report_type_quoted=True)
# Postfix + sys4/tlsrpt-reporter: configured org name is a host; the submitter header carries it
# instead of the contact domain (sys4/tlsrpt-reporter#56, quirk 39). Python's gzip: XFL 2, OS 255.
POSTFIX = Reporter(
    slug="postfix", org="mail.postfix-7.example", contact="tlsrpt-noreply@postfix-7.example",
    sender="postfix-7.example", submitter="mail.postfix-7.example",
    mail_from="tlsrpt-noreply@postfix-7.example",
    reach=0.35, volume=0.4, dane=True, next_midnight=False, crlf=False,
    gz_level=9, gz_xfl=2, gz_os=255, report_type_quoted=True)

REPORTERS: tuple[Reporter, ...] = (GOOGLE, MICROSOFT, MAILRU, STALWART, POSTFIX)
BY_SLUG = {r.slug: r for r in REPORTERS}
SLUGS = tuple(BY_SLUG)
REACH = {r.slug: r.reach for r in REPORTERS}


class Slot(NamedTuple):
    """One report to write: who, for which day, which part of the day's sessions."""
    slug: str
    day: int
    part: int  # 1-based; Postfix/sys4 sends several reports (idx1, idx2...) per domain and day
    sessions: int
    legs: str  # policies applied: "sts", "tlsa", "sts+tlsa" (Microsoft), "none"
    policy_domain: str  # our domain, or an MX host for Postfix host-level DANE reports


def legs_for(rep: Reporter, dom: Domain, day: int) -> str | None:
    """Which policy the reporter applied; None means it sends no report at all."""
    sts = dom.sts_on(day)
    if rep is MICROSOFT:  # reports both legs for the same sessions
        return ("sts+tlsa" if sts else "tlsa") if dom.dane else ("sts" if sts else None)
    if rep is MAILRU:  # only ever seen with sts policies
        return "sts" if sts else None
    if rep.dane and dom.dane:
        return "tlsa"
    return "sts" if sts else "none"


def visible(result_type: str, legs: str) -> bool:
    if result_type in DANE_TYPES:
        return "tlsa" in legs
    if result_type in STS_TYPES:
        return "sts" in legs
    return True


# Day-to-day noise: 1024 quantiles of a log-normal (sigma 0.35), looked up with one uniform
# draw. lognormvariate() itself costs ~2 us and runs five times per domain-day.
_NOISE = tuple(math.exp(0.35 * NormalDist().inv_cdf((i + 0.5) / 1024)) for i in range(1024))


def _draw(r: random.Random, mean: float) -> int:
    # Noise plus stochastic rounding: small senders are silent on many days.
    x = r.random() * 1024
    return int(mean * _NOISE[int(x)] + (x % 1))


def plan_rng(seed: int, dom: Domain) -> random.Random:
    """One stream per domain, consumed day by day (seeding Mersenne Twister costs ~7 us, too
    much to pay per report)."""
    return rng_for(seed, S_DAY, dom.index)


def plan_day(r: random.Random, dom: Domain, day: Day, day_idx: int) -> list[Slot]:
    """The reports sent about `dom` for one day. Cheap: used to count reports before writing.

    Call it for every day in order with the domain's plan_rng()."""
    base = dom.scale * (0.55 if day.weekend else 1.0)
    incidents = active(dom, day_idx)
    forced = sum(i.forced for i in incidents)  # coverage incidents need a session each
    out: list[Slot] = []
    for rep in REPORTERS:
        if rep.slug not in dom.senders:
            continue
        legs = legs_for(rep, dom, day_idx)
        if legs is None:
            continue
        n = _draw(r, base * rep.volume)
        if rep is GOOGLE:
            n = max(1 + forced, n)  # daily heartbeat
        elif rep is MICROSOFT and any(i.forced and i.result_type in DANE_TYPES for i in incidents):
            n = max(1 + forced, n)  # only Microsoft can show a forced DANE failure to every corpus
        elif rep is MAILRU and forced:
            n = max(1 + 2 * forced, n)  # room for its two-detail fetch-error shape (quirk 24)
        elif day_idx == 0 and dom.sts_since > 0 and rep.slug in ("stalwart", "postfix"):
            n = max(1, n)  # show their no-policy-found quirks on the late adopter
        if n <= 0:
            continue  # Microsoft and the small senders only report on days with traffic
        if rep is POSTFIX:
            out.extend(_postfix_parts(r, dom, day_idx, n, legs))
        else:
            out.append(Slot(rep.slug, day_idx, 1, n, legs, dom.name))
    return out


def _postfix_parts(r: random.Random, dom: Domain, day_idx: int, n: int, legs: str) -> list[Slot]:
    if legs == "tlsa" and dom.host_tlsrpt:
        # Host TLSRPT: the DANE policy domain is the MX host, one report per MX.
        hosts = dom.mx
    else:
        parts = min(n, 1 + (r.random() < 0.4) + (r.random() < 0.15))
        hosts = (dom.name,) * parts
    counts = _split_even(r, n, len(hosts))
    return [Slot("postfix", day_idx, k + 1, c, legs, h)
            for k, (c, h) in enumerate(zip(counts, hosts)) if c > 0]


def _split_even(r: random.Random, n: int, k: int) -> list[int]:
    cuts = sorted(r.randint(0, n) for _ in range(k - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, n])]
