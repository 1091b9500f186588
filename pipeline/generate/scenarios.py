"""Labelled incidents on a calm background: what each scenario breaks and the failures it writes.

A background domain (Domain.background) has no random or coverage incidents. Its only failures are
noise a good detector must NOT flag: on a busy report (>= NOISE_MIN_SESSIONS sessions), now and
then 1 failed session (2 from 2 x NOISE_MIN_SESSIONS on), validation-failure or
starttls-not-supported from one of the reporter's sending IPs: always under 0.5 % of the report.

Each scenario is a function of (domain, first day, rng) that returns an Injected record; reports.py
asks failures() for the failure-details of every report of a background domain. Reason texts are
written per reporter so that pipeline.detect.causes maps them to the scenario's cause.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import NamedTuple

from .failures import _EHLO, _GET, SENDING_IPS, details, split_long_tail
from .reporters import Slot
from .world import STS_TYPES, Domain

NOISE_MIN_SESSIONS = 200  # below this, even one failure is >= 0.5 %: no noise on small reports
NOISE_RATE = 0.25  # chance per busy report: "some domain-days"


class Injected(NamedTuple):
    scenario: str
    first: int  # day index, inclusive
    last: int | None  # inclusive; None = still broken at the end of the corpus
    result_type: str | None
    share: float  # fraction of an affected report's sessions that fail
    mx: str | None  # cert-expiry: the expired MX; mx-migration: the new MX
    reporter: str | None  # slug: the only reporter that sees it, or the one that falls silent
    network: str | None  # starttls-stripped: the sending /24

    def on(self, day: int) -> bool:
        return self.first <= day and (self.last is None or day <= self.last)


def cert_expiry(dom: Domain, first: int, r: random.Random) -> Injected:
    """The certificate of ONE of the domain's two MX expires on `first` and is never renewed:
    certificate-expired for the ~40-50 % of sessions that MX carries, from every reporter."""
    return Injected("cert-expiry", first, None, "certificate-expired", r.uniform(0.4, 0.5),
                    r.choice(dom.mx), None, None)


def sts_host_down(dom: Domain, first: int, r: random.Random) -> Injected:
    """mta-sts.<domain> is down for two days from `first` (HTTP 503, timeouts), then recovers:
    sts-policy-fetch-error for nearly all sessions of every reporter that applies MTA-STS."""
    return Injected("sts-host-down", first, first + 1, "sts-policy-fetch-error",
                    r.uniform(0.92, 1.0), None, None, None)


def starttls_stripped(dom: Domain, first: int, r: random.Random, length: int = 7) -> Injected:
    """A middlebox on Google's IPv4 sending network 192.0.2.0/24 strips STARTTLS for `length`
    days: starttls-not-supported from those IPs only, in Google's reports only (60-90 % of its
    sessions; IPv6 and every other reporter stay clean)."""
    return Injected("starttls-stripped", first, first + length - 1, "starttls-not-supported",
                    r.uniform(0.6, 0.9), None, "google", "192.0.2.0/24")


def reporter_silent(dom: Domain | None, first: int, r: random.Random) -> Injected:
    """Google (the daily sender) stops sending every report, for every domain, from `first` on.
    `dom` is unused: the incident belongs to the reporter."""
    return Injected("reporter-silent", first, None, None, 0.0, None, "google", None)


def mx_migration(dom: Domain, first: int, r: random.Random) -> Injected:
    """From `first` on the domain also routes mail to a new MX (mx3.<domain>, or a hosted name when
    the policy says `*.<domain>`) but the MTA-STS policy's mx: lines are never updated:
    validation-failure for the sessions to the new host (25-40 %) from every sts reporter."""
    label = dom.name.replace(".", "-")
    new = f"{label}.inbound.hosted-mx.example" if dom.wildcard else f"mx3.{dom.name}"
    return Injected("mx-migration", first, None, "validation-failure", r.uniform(0.25, 0.4),
                    new, None, None)


def dane_rollover(dom: Domain, first: int, r: random.Random, length: int = 5) -> Injected:
    """The MX key is rolled on `first` without publishing the new TLSA first; TLSA is fixed after
    `length` days: tlsa-invalid on every MX for nearly all sessions of the DANE reporters' tlsa
    policy (Microsoft's tlsa leg, Postfix/sys4, Stalwart); sts policies stay clean."""
    return Injected("dane-rollover", first, first + length - 1, "tlsa-invalid",
                    r.uniform(0.95, 1.0), None, None, None)


SCENARIOS = {f.__name__.replace("_", "-"): f for f in (
    cert_expiry, sts_host_down, starttls_stripped, reporter_silent, mx_migration, dane_rollover)}

_PATTERN = "MX {mx} does not match any mx pattern in the MTA-STS policy"
# scenario -> {"*": generic texts, slug: that reporter's dialect}; {mx}, {d}, {t} are filled.
_REASONS: dict[str, dict[str, list[str]]] = {
    "cert-expiry": {
        "*": ["X509 certificate expired", "certificate has expired"],
        "microsoft": ["4.7.5 X509 certificate expired", "X509_V_ERR_CERT_HAS_EXPIRED"],
        "mailru": ["x509: certificate has expired or is not yet valid: "
                   "current time {t} is after {x}T23:59:59Z"],
        "postfix": ["certificate_expired: certificate has expired"]},
    "sts-host-down": {
        "*": ["HTTP 503", "connection timed out", "HTTP 503 Service Unavailable"],
        "google": ["sts-policy-fetch-error: HTTP 503", "sts-policy-fetch-error: connection timed out"],
        "mailru": ["bad https response code: 503",
                   _GET + "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"]},
    "starttls-stripped": {
        "*": ["starttls-not-supported: STARTTLS not offered"]},
    "mx-migration": {
        "*": ["mx host not in MTA-STS policy", _PATTERN],
        "google": ["validation-failure: " + _PATTERN],
        "microsoft": ["4.7.5 MX host {mx} not in MTA-STS policy"],
        "mailru": ["mx {mx} is not listed in the MTA-STS policy"],
        "postfix": ["policy_mx_mismatch: {mx} not in MTA-STS policy mx list"]},
    "dane-rollover": {
        "*": ["no TLSA record matched the presented certificate"],
        "microsoft": ["4.7.5 TLSA record mismatch: no TLSA record matched the certificate of {mx}"],
        "postfix": ["dane_tlsa_no_match: no matching TLSA record for _25._tcp.{mx}"]},
}


def _mx_ip(dom: Domain, mx: str, v6: bool) -> str:
    if mx in dom.mx:
        k = dom.mx.index(mx)
        return dom.mx_v6[k] if v6 else dom.mx_v4[k]
    # The new MX of mx-migration: an unused corner of the documentation ranges.
    return f"2001:db8:{dom.index % 65536:x}::53" if v6 else f"203.0.113.{200 + dom.index % 40}"


def _rows(r: random.Random, slot: Slot, dom: Domain, inj: Injected, failed: int,
          mxs: tuple[str, ...], when: str, pool: list[str] | None = None) -> list[dict]:
    """failure-details for `failed` sessions of one scenario, in the reporter's field style."""
    slug, rt = slot.slug, inj.result_type
    table = _REASONS[inj.scenario]
    texts = table.get(slug) or table["*"]
    # The certificate's notAfter: the end of the day before the scenario's first day.
    expired = (date.fromisoformat(when[:10]) - timedelta(days=slot.day - inj.first + 1)).isoformat()

    def text(mx: str) -> str:
        return r.choice(texts).format(mx=mx, d=dom.name, t=when, x=expired)

    if rt in STS_TYPES and slug in ("microsoft", "mailru"):  # no IP or MX (quirk 26)
        return [{"result-type": rt, "failed-session-count": n, "failure-reason-code": text("")}
                for n in split_long_tail(r, failed, 3)]
    pool = pool or SENDING_IPS[slug]
    rows: dict[tuple[str, str], dict] = {}  # one row per (sending IP, MX), as real reports do
    for n in split_long_tail(r, failed, len(pool)):
        ip = pool[min(len(pool) - 1, int(r.paretovariate(1.0)) - 1)]  # busy hosts first
        mx = r.choice(mxs) if mxs else ""
        if (ip, mx) in rows:
            rows[ip, mx]["failed-session-count"] += n
            continue
        d: dict = {"result-type": rt, "sending-mta-ip": ip}
        if mx:  # an MX was contacted
            d["receiving-mx-hostname"] = mx
            if slug == "postfix":
                tls = "" if rt == "starttls-not-supported" else "250-STARTTLS\r\n"
                d["receiving-mx-helo"] = _EHLO.format(mx=mx, tls=tls)
            d["receiving-ip"] = _mx_ip(dom, mx, ":" in ip)
        d["failed-session-count"] = n
        d["failure-reason-code"] = text(mx)
        rows[ip, mx] = d
    return sorted(rows.values(), key=lambda d: -d["failed-session-count"])


def _affected(inj: Injected, slot: Slot, dom: Domain, host: int | None) -> tuple[float, tuple]:
    """(share of this report's sessions that fail, MX hosts they went to); share 0: unaffected."""
    mxs = dom.mx if host is None else (dom.mx[host],)
    s = inj.scenario
    if s == "cert-expiry":
        if host is not None:  # a host-level report covers exactly one MX
            return (1.0 if dom.mx[host] == inj.mx else 0.0), (inj.mx,)
        return inj.share, (inj.mx,)
    if s == "sts-host-down":
        return (inj.share if "sts" in slot.legs else 0.0), ()
    if s == "starttls-stripped":
        return (inj.share if slot.slug == inj.reporter else 0.0), mxs
    if s == "mx-migration":  # only a policy with mx: lines can reject the new host
        return (inj.share if "sts" in slot.legs else 0.0), (inj.mx,)
    if s == "dane-rollover":
        return (inj.share if "tlsa" in slot.legs else 0.0), mxs
    return 0.0, ()


def failures(r: random.Random, slot: Slot, dom: Domain, when: str) -> tuple[int, list[dict]]:
    """Failed sessions and failure-details of one report of a background domain."""
    host = dom.mx.index(slot.policy_domain) if slot.policy_domain != dom.name else None
    out: list[dict] = []
    inj = dom.scenario
    if isinstance(inj, Injected) and inj.on(slot.day):
        share, mxs = _affected(inj, slot, dom, host)
        f = min(slot.sessions, int(slot.sessions * share + r.random())) if share else 0
        if f:
            pool = None
            if inj.network:  # the stripped /24: the reporter's IPv4 senders
                prefix = inj.network.rsplit(".", 1)[0] + "."
                pool = [ip for ip in SENDING_IPS[slot.slug] if ip.startswith(prefix)]
            out = _rows(r, slot, dom, inj, f, mxs, when, pool)
    failed = sum(d["failed-session-count"] for d in out)
    left = slot.sessions - failed
    if left >= NOISE_MIN_SESSIONS and r.random() < NOISE_RATE:
        n = 1 + (left >= 2 * NOISE_MIN_SESSIONS and r.random() < 0.5)
        rt = r.choice(("validation-failure", "starttls-not-supported"))
        out += details(r, slot.slug, rt, n, dom, host, when)
        failed += n
    return failed, out
