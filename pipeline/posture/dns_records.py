"""The DNS records a domain publishes: `_smtp._tls` (RFC 8460 3), `_mta-sts` (RFC 8461 3.1), MX."""

from __future__ import annotations

import re

import dns.resolver

from pipeline.posture.dns_lookup import Answer, ask, txt_strings
from pipeline.posture.result import ERROR, FAIL, OK, WARN, CheckResult

FIELD_DELIM = re.compile(r"[ \t]*;[ \t]*")
STS_ID = re.compile(r"[A-Za-z0-9]{1,32}")


def _dns_error(check: str, domain: str, answer: Answer) -> CheckResult:
    return CheckResult(check, domain, answer.name, ERROR, answer.error, answer.detail)


def _fields(record: str) -> tuple[list[tuple[str, str]], list[str]]:
    """key=value pairs after the version, and the pieces that are not key=value."""
    pairs, bad = [], []
    for part in FIELD_DELIM.split(record)[1:]:
        if not part:
            continue  # a trailing ";" is allowed
        key, sep, value = part.partition("=")
        if not sep or not key or not re.fullmatch(r"[A-Za-z0-9_.-]+", key):
            bad.append(part)
        else:
            pairs.append((key, value))
    return pairs, bad


def rua_problem(uri: str) -> str:
    scheme, sep, rest = uri.partition(":")
    if not sep or scheme.lower() not in ("mailto", "https"):
        return f"{uri!r} is neither mailto: nor https:"
    if scheme.lower() == "mailto" and not re.fullmatch(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+", rest.split("?")[0]):
        return f"{uri!r} has no valid mail address"
    if scheme.lower() == "https" and not re.match(r"//[^/\s:]+\.[^/\s:]+", rest):
        return f"{uri!r} has no host name"
    return ""


def _one_record(check: str, domain: str, name: str, version: str, key: str, resolver, missing: tuple[str, str]):
    """(result maker, the single value of `key`) or (None, a finished result): the steps both
    TXT records share. Records not starting with the version are not ours (RFC 8460 3, 8461 3.1)."""
    answer = ask(resolver, name, "TXT")
    if answer.error:
        return None, _dns_error(check, domain, answer)
    result = lambda verdict, reason, detail, **facts: CheckResult(  # noqa: E731 - one place for the common fields
        check, domain, name, verdict, reason, detail, answer.raw, facts)
    records = [t for t in txt_strings(answer) if t.startswith(version) and FIELD_DELIM.match(t[len(version):] or ";")]
    if not records:
        return None, result(missing[0], "missing", f"no {version} TXT record at {name}: {missing[1]}")
    if len(records) > 1:
        # Both RFCs: with several records, senders act as if there were none.
        return None, result(FAIL, "multiple_records", f"{len(records)} {version} records at {name}: senders ignore them all")
    pairs, bad = _fields(records[0])
    if bad:
        return None, result(FAIL, "syntax_error", f"not key=value: {bad[0]!r}")
    values = [value for k, value in pairs if k == key]
    if len(values) != 1:
        return None, result(FAIL, f"missing_{key}" if not values else f"multiple_{key}", f"{len(values)} {key}= fields; exactly one is required")
    return result, values[0]


def check_tlsrpt(domain: str, resolver: dns.resolver.Resolver) -> CheckResult:
    result, rua = _one_record("tlsrpt_txt", domain, f"_smtp._tls.{domain}", "v=TLSRPTv1", "rua", resolver,
                              (FAIL, "no sender will send reports"))
    if result is None:
        return rua
    uris = [u.strip() for u in rua.split(",")]
    problems = [p for p in map(rua_problem, uris) if p]
    if problems:
        return result(FAIL, "bad_rua", problems[0], rua=uris)
    return result(OK, "valid", f"reports go to {', '.join(uris)}", rua=uris)


def check_sts_record(domain: str, resolver: dns.resolver.Resolver) -> CheckResult:
    result, policy_id = _one_record("sts_txt", domain, f"_mta-sts.{domain}", "v=STSv1", "id", resolver,
                                    (WARN, "senders do not use MTA-STS"))
    if result is None:
        return policy_id
    if not STS_ID.fullmatch(policy_id):
        return result(FAIL, "bad_id", f"id={policy_id!r} is not 1-32 letters and digits")
    return result(OK, "valid", f"policy id {policy_id}", policy_id=policy_id)


def check_mx(domain: str, resolver: dns.resolver.Resolver) -> CheckResult:
    answer = ask(resolver, domain, "MX")
    if answer.error:
        return _dns_error("mx", domain, answer)
    ranked = sorted(answer.records, key=lambda r: (r.preference, r.exchange.to_text()))
    hosts = [r.exchange.to_text(omit_final_dot=True).lower() for r in ranked]
    hosts = list(dict.fromkeys(hosts))
    if not hosts:
        return CheckResult("mx", domain, domain, FAIL, "missing", f"{domain} has no MX record", answer.raw, {"hosts": []})
    if hosts in ([""], ["."]):
        return CheckResult("mx", domain, domain, WARN, "null_mx", f"{domain} accepts no mail (null MX, RFC 7505)",
                           answer.raw, {"hosts": []})
    return CheckResult("mx", domain, domain, OK, "found", f"{len(hosts)} MX: {', '.join(hosts)}", answer.raw, {"hosts": hosts})
