"""All checks for a list of domains: capped, rate-limited, one bad domain never stops the rest."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Callable

from pipeline.posture.config import ProbeConfig
from pipeline.posture.dns_records import check_mx, check_sts_record, check_tlsrpt
from pipeline.posture.policy_fetch import check_policy
from pipeline.posture.result import ERROR, FAIL, OK, WARN, CheckResult
from pipeline.posture.starttls import Probe, probe_mx, starttls_results
from pipeline.posture.sts_policy import mx_covered
from pipeline.posture.tlsa import check_tlsa

MAX_MX_PER_DOMAIN = 10  # a hostile zone with 500 MX records must not make us dial 500 hosts


@dataclass
class Run:
    results: list[CheckResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # over the per-run cap, not checked


DOMAIN_NAME = re.compile(r"([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}")


def normalise(domain: str) -> str:
    return domain.strip().lower().rstrip(".")


def is_domain(domain: str) -> bool:
    return len(domain) <= 253 and bool(DOMAIN_NAME.fullmatch(domain))


def coverage_results(domain: str, hosts: list[str], policy: dict) -> list[CheckResult]:
    patterns = policy.get("mx") or []
    if policy.get("mode") == "none":
        return []
    out = []
    for host in hosts:
        pattern = mx_covered(host, patterns)
        if pattern:
            out.append(CheckResult("mx_coverage", domain, host, OK, "covered", f"{host} is covered by mx: {pattern}", facts={"pattern": pattern}))
        else:
            out.append(CheckResult("mx_coverage", domain, host, FAIL, "mx_not_in_policy",
                                   f"{host} matches no mx: line ({', '.join(patterns)}): enforcing senders will not deliver to it",
                                   facts={"patterns": patterns}))
    return out


def check_domain(domain: str, config: ProbeConfig, probes: dict[str, Probe] | None = None) -> list[CheckResult]:
    """Every check of one domain; `probes` caches STARTTLS probes per MX across a run (one shared
    MX serving many domains is dialled once)."""
    probes = {} if probes is None else probes
    domain = normalise(domain)
    resolver = config.resolver()
    sts = check_sts_record(domain, resolver)
    results = [check_tlsrpt(domain, resolver), sts]
    if sts.reason == "missing":
        # Senders fetch the policy only when the record exists: an absent file is no failure then.
        policy = {}
        results.append(CheckResult("sts_policy", domain, f"https://mta-sts.{domain}/.well-known/mta-sts.txt", WARN,
                                   "not_published", "not fetched: no v=STSv1 record, so senders do not use MTA-STS"))
    else:
        policy_result, policy = check_policy(domain, config)
        results.append(policy_result)
    mx = check_mx(domain, resolver)
    results.append(mx)
    hosts = mx.facts.get("hosts", [])[:MAX_MX_PER_DOMAIN]
    if policy:
        results += coverage_results(domain, hosts, policy)
    for host in hosts:
        probe = probes[host] if host in probes else probes.setdefault(host, probe_mx(host, config))
        results += starttls_results(domain, host, probe, config)
        results.append(check_tlsa(domain, host, probe.der, resolver))
    return results


def check_domains(domains: list[str], config: ProbeConfig, on_result: Callable[[CheckResult], None] | None = None) -> Run:
    run = Run()
    wanted = list(dict.fromkeys(d for d in map(normalise, domains) if d))
    run.skipped = wanted[config.max_domains:]
    last, probes = None, {}
    for domain in wanted[:config.max_domains]:
        if last is not None:
            time.sleep(max(0.0, config.min_interval - (time.monotonic() - last)))
        last = time.monotonic()
        try:
            found = check_domain(domain, config, probes) if is_domain(domain) else [
                CheckResult("run", domain, domain, ERROR, "bad_domain_name", f"{domain[:80]!r} is not a domain name")]
        except Exception as exc:  # noqa: BLE001 - one domain's surprise is a result, never the end of the run
            found = [CheckResult("run", domain, domain, ERROR, "check_crashed", f"{type(exc).__name__}: {exc}"[:300])]
        for result in found:
            run.results.append(result)
            if on_result:
                on_result(result)
    return run


def worst(results: list[CheckResult]) -> str:
    order = {FAIL: 3, ERROR: 2, WARN: 1, OK: 0}
    return max((r.verdict for r in results), key=order.__getitem__, default=OK)
