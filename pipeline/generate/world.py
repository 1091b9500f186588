"""The simulated world: our policy domains, their MX hosts and policies, incidents, daily traffic.

Everything comes from private RNG streams keyed by (seed, stream, domain index): a domain looks
the same in a corpus of 3 domains and in one of 30 000, and its day plan (who reports, how many
sessions) can be replayed to count reports for `reports=N` without building them. Domains are
built one at a time, which keeps memory flat at any corpus size.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import NamedTuple

from pipeline.vocabulary import RESULT_TYPE_NAMES, of_group

STS_TYPES = of_group("sts")
DANE_TYPES = of_group("tlsa")
GENERAL_TYPES = of_group("general")
RESULT_TYPES = RESULT_TYPE_NAMES  # the 11 IANA values, general first: random choices index into it

# Relative frequency of incident kinds. Fetch errors and expired certificates dominate real life;
# DANE types are rarer because few domains sign their zone.
_WEIGHTS = {"sts-policy-fetch-error": 20, "certificate-expired": 12, "validation-failure": 12,
            "starttls-not-supported": 8, "certificate-host-mismatch": 10,
            "certificate-not-trusted": 8, "sts-policy-invalid": 5, "sts-webpki-invalid": 5,
            "tlsa-invalid": 8, "dnssec-invalid": 4, "dane-required": 3}
_INCIDENT_RATE = 1 / 20  # incidents per domain-day: most days are clean heartbeats

# RNG stream ids: separate streams so that e.g. writing .eml files never shifts report contents.
S_DOMAIN, S_DAY, S_REPORT, S_COVERAGE, S_ENVELOPE, S_SCENARIO = 1, 2, 3, 4, 5, 6


def rng_for(seed: int, stream: int, a: int = 0, b: int = 0) -> random.Random:
    # Packing the key into one int is cheap (Random(int) needs no hashing) and is stable across
    # Python runs, unlike hash() of a tuple holding strings.
    return random.Random((((seed % 2**64) << 8 | stream) << 104) | (a << 40) | b)


class Incident(NamedTuple):
    first: int  # day index, inclusive
    last: int
    result_type: str
    share: float  # fraction of the day's sessions that fail
    mx: int | None  # the one broken MX, or None for all
    forced: bool  # coverage incident: at least one failed session wherever it is visible


@dataclass(frozen=True, slots=True)
class Domain:
    index: int
    name: str
    mx: tuple[str, ...]
    mx_v4: tuple[str, ...]
    mx_v6: tuple[str, ...]
    mode: str  # MTA-STS mode: enforce | testing
    max_age: int
    wildcard: bool  # policy says `mx: *.<domain>` instead of listing hosts
    dane: bool
    host_tlsrpt: bool  # publishes _smtp._tls on its MX hosts, so Postfix files DANE per MX
    tlsa: tuple[str, ...]  # "3 1 1 <sha256 hex>" per MX
    sts_since: int  # first day with an MTA-STS policy (before: no-policy-found)
    scale: float  # sessions per day seen from Google; log-normal, so a few domains dominate
    senders: frozenset[str]  # reporter slugs that deliver mail to this domain
    incidents: tuple[Incident, ...]
    background: bool = False  # scenario corpus: no random incidents, failures from scenarios.py
    scenario: object = None  # scenarios.Injected on the one domain a scenario breaks

    def sts_on(self, day: int) -> bool:
        return day >= self.sts_since


class Day(NamedTuple):
    """Per-day strings, computed once per corpus rather than once per report."""
    date: date
    unix: int  # 00:00:00Z
    iso: str  # YYYY-MM-DD
    next_iso: str  # the following day, for reporters whose range ends at next midnight
    weekend: bool


def make_days(start: date, days: int) -> list[Day]:
    out = []
    for i in range(days):
        d = start + timedelta(days=i)
        unix = int(datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp())
        nxt = (d + timedelta(days=1)).isoformat()
        out.append(Day(d, unix, d.isoformat(), nxt, d.weekday() >= 5))
    return out


def coverage(seed: int, n_domains: int, days: int) -> dict[int, list[Incident]]:
    """One forced incident per RFC result type, so even a 3-domain month shows all 11 types.

    DANE types go to domain 0 (always DANE), and so does the policy fetch error, because domain 0
    hears from every reporter and Mail.ru shows its summary/details quirk on it. The others
    rotate over the first three domains."""
    r = rng_for(seed, S_COVERAGE)
    out: dict[int, list[Incident]] = {}
    for k, rt in enumerate(RESULT_TYPES):
        showcase = rt in DANE_TYPES or rt == "sts-policy-fetch-error"
        idx = 0 if showcase else k % min(n_domains, 3)
        day = r.randrange(days)
        out.setdefault(idx, []).append(Incident(day, day, rt, r.uniform(0.05, 0.4), None, True))
    return out


def build_domain(seed: int, index: int, days: int, forced: list[Incident] | None,
                 slugs: tuple[str, ...], reach: dict[str, float], background: bool = False) -> Domain:
    """One domain. `background`: the same domain (same RNG draws) without any incident."""
    r = rng_for(seed, S_DOMAIN, index)
    name = f"example-{index + 1:04d}.test"
    mx = tuple(f"mx{k + 1}.{name}" for k in range(2 if r.random() < 0.6 else 1))
    mx_v4 = tuple(f"198.51.100.{(index * 2 + k) % 254 + 1}" for k in range(len(mx)))
    mx_v6 = tuple(f"2001:db8:{index % 65536:x}::{k + 25}" for k in range(len(mx)))
    dane = index == 0 or (index != 1 and r.random() < 0.3)  # 1 shows no-policy-found quirks
    # Domain 1 is the showcase late adopter: its first days show no-policy-found quirks.
    sts_since = 0
    if days > 1 and index > 0 and (index == 1 or r.random() < 0.1):
        sts_since = max(1, days // 3) if index == 1 else r.randint(1, days - 1)
    # The first two domains hear from every reporter so small corpora still show every style.
    senders = frozenset(s for s in slugs if index < 2 or r.random() < reach[s])
    incidents = list(_random_incidents(r, days, dane, sts_since, len(mx)))
    if background:
        incidents, forced = [], None  # drawn all the same, so the rest of the domain is unchanged
    for inc in forced or ():
        if inc.result_type in STS_TYPES and inc.first < sts_since:  # no policy, no policy error
            day = sts_since + inc.first % (days - sts_since)
            inc = inc._replace(first=day, last=day)
        incidents.append(inc)
    return Domain(
        index=index, name=name, mx=mx, mx_v4=mx_v4, mx_v6=mx_v6,
        mode="enforce" if r.random() < 0.7 else "testing",
        max_age=r.choice((86400, 604800, 604800, 1209600, 2592000, 10368000, 31557600, 86401)),
        wildcard=r.random() < 0.2, dane=dane, host_tlsrpt=dane and r.random() < 0.5,
        tlsa=tuple("3 1 1 " + hashlib.sha256(f"{seed}/{h}".encode()).hexdigest() for h in mx),
        sts_since=sts_since, scale=r.lognormvariate(1.8, 1.3), senders=senders,
        incidents=tuple(incidents), background=background,
    )


def _random_incidents(r: random.Random, days: int, dane: bool, sts_since: int, n_mx: int):
    day = int(r.expovariate(_INCIDENT_RATE))
    while day < days:
        kinds = [t for t in RESULT_TYPES
                 if (dane or t not in DANE_TYPES) and (day >= sts_since or t not in STS_TYPES)]
        rt = r.choices(kinds, [_WEIGHTS[t] for t in kinds])[0]
        length = 1 + int(r.expovariate(0.6))  # mostly a day or two, sometimes a week+
        if n_mx > 1 and rt not in STS_TYPES and r.random() < 0.5:
            mx, share = r.randrange(n_mx), r.uniform(0.3, 0.5)  # one broken MX of two
        else:
            mx, share = None, min(1.0, r.lognormvariate(-1.8, 1.1))
        yield Incident(day, min(days - 1, day + length - 1), rt, share, mx, False)
        day += length + int(r.expovariate(_INCIDENT_RATE))


def active(dom: Domain, day: int) -> list[Incident]:
    return [i for i in dom.incidents if i.first <= day <= i.last] if dom.incidents else []
