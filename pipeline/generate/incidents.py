"""Which domain and which days each scenario gets, and the ground truth written as incidents.json.

Days come from one RNG stream per scenario, so a scenario's days do not depend on which other
scenarios are asked for. Incidents start after the first ~40 % of the range (a baseline for
detectors); fixed-length ones end before the last quarter, where Google may fall silent
(reporter-silent), and every incident starts at least 5 days before the end.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from pipeline.transform.reporter_domains import registrable_domain

from .reporters import BY_SLUG, REACH, SLUGS, Reporter
from .scenarios import SCENARIOS, Injected
from .world import S_SCENARIO, Day, Domain, build_domain, rng_for

CAUSES = {"cert-expiry": "certificate_expired", "sts-host-down": "sts_policy_fetch_failed",
          "starttls-stripped": "starttls_stripped", "reporter-silent": "reporter_silent",
          "mx-migration": "mx_not_in_policy", "dane-rollover": "tlsa_mismatch"}
# Most constrained first, so the backtracking search below rarely backtracks.
_ORDER = ("dane-rollover", "cert-expiry", "mx-migration", "sts-host-down", "starttls-stripped")
DEFAULT_DOMAINS = 12  # default corpus size with scenarios: 5 broken domains, the rest clean
MIN_DAYS = 20
_BUSY = 2.0  # domain scale preferred for a scenario (Google sees ~12+ sessions a day)


class Plan(NamedTuple):
    by_domain: dict[int, Injected]
    silent: Injected | None
    doms: dict[int, Domain]  # the scenario domains by index


def resolve(names: Iterable[str]) -> tuple[str, ...]:
    """Scenario names in canonical order: "all" = every scenario, "clean" = none (background)."""
    chosen: set[str] = set()
    for n in names:
        if n == "all":
            chosen |= set(SCENARIOS)
        elif n in SCENARIOS:
            chosen.add(n)
        elif n != "clean":
            raise ValueError(f"unknown scenario {n!r}: use {', '.join(SCENARIOS)}, all or clean")
    return tuple(s for s in SCENARIOS if s in chosen)


def _fits(scenario: str, dom: Domain) -> bool:
    if scenario == "cert-expiry":  # one of two MX; no DANE, whose EE records ignore expiry
        return len(dom.mx) == 2 and not dom.dane and dom.sts_since == 0
    if scenario == "mx-migration":
        return dom.sts_since == 0 and not dom.dane
    if scenario == "sts-host-down":
        return dom.sts_since == 0
    if scenario == "dane-rollover":
        return dom.dane and bool({"microsoft", "postfix"} & dom.senders)
    return "google" in dom.senders  # starttls-stripped


class _Candidates:
    """The best few domains per scenario (busy first, then a seeded order), kept while scanning
    every domain once: memory stays flat at any corpus size. Keeping 5 per scenario cannot lose a
    solution: the other scenarios take at most 4 of them."""

    def __init__(self, seed: int, days: int, wanted: Sequence[str]) -> None:
        self.seed, self.days, self.todo = seed, days, [s for s in _ORDER if s in wanted]
        self.best: dict[str, list[tuple[tuple, int]]] = {s: [] for s in self.todo}
        self.doms: dict[int, Domain] = {}
        self.n = 0

    def add(self) -> None:
        i, self.n = self.n, self.n + 1
        dom = build_domain(self.seed, i, self.days, None, SLUGS, REACH, background=True)
        key = (dom.scale < _BUSY, zlib.crc32(f"{self.seed}/{i}".encode()))
        for s in self.todo:
            if _fits(s, dom):
                self.best[s] = sorted([*self.best[s], (key, i)])[:5]
                self.doms[i] = dom

    def assign(self) -> dict[str, int] | None:
        """scenario -> domain index, each on its own domain (a small backtracking search)."""
        def search(k: int, used: dict[str, int]) -> dict[str, int] | None:
            if k == len(self.todo):
                return dict(used)
            for _, i in self.best[self.todo[k]]:
                if i not in used.values():
                    found = search(k + 1, {**used, self.todo[k]: i})
                    if found:
                        return found
            return None

        return search(0, {})


def plan(seed: int, n_domains: int | None, days: int, wanted: Sequence[str]) -> tuple[int, Plan]:
    """(domains, plan). n_domains None = DEFAULT_DOMAINS or as many as the scenarios need."""
    if wanted and days < MIN_DAYS:
        raise ValueError(f"scenarios need at least {MIN_DAYS} days (got {days})")
    cands = _Candidates(seed, days, wanted)
    for _ in range(n_domains or DEFAULT_DOMAINS):
        cands.add()
    found = cands.assign()
    while found is None:  # too few domains with what the scenarios need: how many would do?
        cands.add()
        found = cands.assign()
        if found is not None and n_domains is not None:
            raise ValueError(
                f"{n_domains} domains are too few for scenarios {', '.join(wanted)} with seed {seed}"
                f" (each needs its own domain: 2 MX for cert-expiry, DANE for dane-rollover, MTA-STS"
                f" from day 1 for sts-host-down and mx-migration); use --domains {cands.n} or more")
    lo, mid = days * 2 // 5, days * 3 // 4
    by_domain: dict[int, Injected] = {}
    silent = None
    for name in wanted:
        r = rng_for(seed, S_SCENARIO, list(SCENARIOS).index(name))
        fn = SCENARIOS[name]
        if name == "reporter-silent":
            silent = fn(None, r.randint(mid, days - 5), r)
            continue
        i = found[name]
        if name in ("starttls-stripped", "dane-rollover"):
            length = min(r.randint(5, 10) if name == "starttls-stripped" else r.randint(4, 6),
                         mid - lo)
            by_domain[i] = fn(cands.doms[i], r.randint(lo, mid - length), r, length)
        else:
            span = 2 if name == "sts-host-down" else 1
            by_domain[i] = fn(cands.doms[i], r.randint(lo, mid - span), r)
    return cands.n, Plan(by_domain, silent, {i: cands.doms[i] for i in by_domain})


def registrable(rep: Reporter) -> str:
    """The reporter name the warehouse uses (sql/staging/reports.sql): contact-info's domain, else
    organization-name, cut to its registrable domain (corp.mail.ru -> mail.ru)."""
    host = rep.contact.rsplit("@", 1)[1] if rep.contact else rep.org
    return registrable_domain(host.lower().strip())


_DESCRIBE = {
    "cert-expiry": "The TLS certificate of {mx} expired and was not renewed; senders fail on that "
                   "MX only.",
    "sts-host-down": "The MTA-STS policy host mta-sts.{d} answered HTTP 503 or timed out for two "
                     "days, then recovered.",
    "starttls-stripped": "STARTTLS was stripped on the path from {net} ({rep} senders only) to "
                         "{d}; every other sender negotiated TLS.",
    "reporter-silent": "{rep} stopped sending TLS reports for every domain it serves.",
    "mx-migration": "The new MX {mx} was added without updating the MTA-STS policy's mx: lines, "
                    "so senders reject it as not in policy.",
    "dane-rollover": "The MX key of {d} was rolled without publishing the new TLSA record first; "
                     "DANE validation failed on every MX until TLSA was fixed.",
}


def ground_truth(seed: int, day_list: list[Day], n_domains: int, p: Plan) -> dict:
    """incidents.json: every injected incident and the domains left clean."""
    incidents = []
    injected = sorted([(inj, p.doms[i]) for i, inj in p.by_domain.items()]
                      + ([(p.silent, None)] if p.silent else []),
                      key=lambda t: list(SCENARIOS).index(t[0].scenario))
    for inj, dom in injected:
        domain = dom.name if dom else None
        rep = registrable(BY_SLUG[inj.reporter]) if inj.reporter else None
        if inj.scenario in ("cert-expiry", "mx-migration"):
            mx_hosts = [inj.mx]
        elif inj.scenario in ("starttls-stripped", "dane-rollover"):
            mx_hosts = list(dom.mx)
        else:
            mx_hosts = []
        incidents.append({
            "id": inj.scenario, "scenario": inj.scenario, "policy_domain": domain,
            "first_day": day_list[inj.first].iso,
            "last_day": None if inj.last is None else day_list[inj.last].iso,
            "causes": [CAUSES[inj.scenario]],
            "result_types": [inj.result_type] if inj.result_type else [],
            "mx_hosts": mx_hosts, "reporter": rep, "sending_network": inj.network,
            "description": _DESCRIBE[inj.scenario].format(
                mx=inj.mx, d=domain, net=inj.network, rep=rep),
        })
    clean = [f"example-{i + 1:04d}.test" for i in range(n_domains) if i not in p.by_domain]
    return {"seed": seed, "start": day_list[0].iso, "end": day_list[-1].iso,
            "days": len(day_list), "clean_domains": clean, "incidents": incidents}

