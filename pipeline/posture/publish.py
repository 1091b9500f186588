"""`tlsrpt setup`: the records and the MTA-STS policy file a domain should publish, built from
its real MX records, starting in `testing` mode (RFC 8461 5: test before enforcing)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipeline.posture.config import ProbeConfig
from pipeline.posture.dns_records import check_mx, rua_problem

# RFC 8461 3.2: max_age "in the range of weeks or greater". One week while testing (a changed
# MX list reaches senders within a week even if an id bump is forgotten); a year once enforced.
TESTING_MAX_AGE = 604_800
ENFORCE_MAX_AGE = 31_557_600


class SetupError(ValueError):
    """What stops us from writing records (bad rua, no MX): one line for the user."""


@dataclass(frozen=True)
class Publication:
    domain: str
    tlsrpt_record: str
    sts_record: str
    policy: str
    mx_hosts: list[str]

    def zone_lines(self) -> list[str]:
        return [f'_smtp._tls.{self.domain}. IN TXT "{self.tlsrpt_record}"',
                f'_mta-sts.{self.domain}.  IN TXT "{self.sts_record}"']

    def text(self) -> str:
        url = f"https://mta-sts.{self.domain}/.well-known/mta-sts.txt"
        return "\n".join([
            "# 1. Publish these DNS records:", *self.zone_lines(), "",
            f"# 2. Serve this file at {url}",
            f"#    (HTTPS with a certificate valid for mta-sts.{self.domain}, status 200, no redirect,",
            "#    Content-Type text/plain; `tlsrpt serve --mta-sts-dir` can host it):",
            self.policy.rstrip("\r\n").replace("\r\n", "\n"), "",
            "# 3. Check what you published:",
            f"#    tlsrpt check {self.domain}", "",
            "# 4. Move to enforce once the readiness verdict says so (posture.enforce_readiness,",
            "#    after at least a few weeks of reports): in the file set",
            f"#    mode: enforce and max_age: {ENFORCE_MAX_AGE}, and publish a new id in _mta-sts",
            "#    (senders only refetch the policy when the id changes). Add every new MX to the",
            "#    file (and bump the id) before it receives mail.",
        ]) + "\n"


def check_rua(rua: list[str]) -> None:
    problems = [p for p in map(rua_problem, rua) if p]
    if not rua or problems:
        raise SetupError(problems[0] if problems else "give at least one --rua (mailto:ADDRESS or https://URL)")


def build(domain: str, rua: list[str], mx_hosts: list[str], now: dt.datetime | None = None) -> Publication:
    check_rua(rua)
    if not mx_hosts:
        raise SetupError(f"{domain} has no MX records: publish MX first (the policy lists them)")
    policy_id = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%dT%H%M%S")
    lines = ["version: STSv1", "mode: testing", *(f"mx: {h}" for h in mx_hosts), f"max_age: {TESTING_MAX_AGE}"]
    return Publication(domain, f"v=TLSRPTv1; rua={','.join(rua)}", f"v=STSv1; id={policy_id}",
                       "".join(line + "\r\n" for line in lines), mx_hosts)


def plan(domain: str, rua: list[str], config: ProbeConfig) -> Publication:
    """`build` from the MX records DNS gives now (a bad --rua is refused before any lookup)."""
    check_rua(rua)
    mx = check_mx(domain, config.resolver())
    if mx.verdict == "error":
        raise SetupError(f"cannot read the MX records of {domain}: {mx.detail}")
    return build(domain, rua, mx.facts.get("hosts", []))
