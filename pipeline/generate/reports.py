"""Build one report (the JSON dict, its RFC file name and the facts the envelope needs).

The shapes follow each reporter's real output, quirks included:
Microsoft's naive date-times and double-encoded TLSA strings, Mail.ru's sorted keys and totals
that disagree with the details, Stalwart's nulls and empty arrays, Postfix's missing policy-domain.
"""

from __future__ import annotations

import json
import random
from typing import NamedTuple

from .failures import details
from .reporters import BY_SLUG, Slot, visible
from .scenarios import failures as scenario_failures
from .world import S_ENVELOPE, S_REPORT, Day, Domain, active, rng_for

FILETIME_EPOCH = 11644473600  # seconds from 1601-01-01 to 1970-01-01
_HOUR = 3600


class Built(NamedTuple):
    slug: str
    report: dict
    payload: bytes  # the JSON bytes exactly as this reporter serialises them
    filename: str  # RFC 8460 file name of the .json.gz
    report_id: str
    header_domain: str  # TLS-Report-Domain
    generated: int  # unix time the reporter produced the report (gzip mtime for Postfix)
    sent: int  # unix time of the mail Date: header
    rng: random.Random  # the domain's envelope stream (kept apart so formats never change files)


def _times(r: random.Random, slug: str, day_end: int, part: int) -> tuple[int, int]:
    """(generated, sent): arrival lag per reporter."""
    if slug == "google":
        gen = day_end + int(r.uniform(10, 16) * _HOUR)
        return gen, gen
    if slug == "microsoft":
        gen = day_end + int(r.gauss(19.5, 0.6) * _HOUR)
        if r.random() < 0.03:
            gen += 22 * _HOUR  # one real report was generated ~41 h after the day
        sent = gen + r.randrange(2, 40)
        if r.random() < 0.01:
            sent += r.randint(2, 25) * 24 * _HOUR  # and one mail came ~23 days late
        return gen, sent
    lag = {"mailru": (1, 6), "stalwart": (0, 3), "postfix": (0.2, 2)}[slug]
    gen = day_end + int(r.uniform(*lag) * _HOUR) + 60 * part
    return gen, gen + r.randrange(1, 30)


def _sts_strings(dom: Domain, stalwart: bool) -> tuple[list[str], list[str]]:
    hosts = [f"*.{dom.name}"] if dom.wildcard else list(dom.mx)
    mx_lines = [f"mx: {h}" for h in hosts]
    head = ["version: STSv1", f"mode: {dom.mode}"]
    age = [f"max_age: {dom.max_age}"]
    # Stalwart writes max_age before the mx lines: order is not fixed.
    return (head + age + mx_lines if stalwart else head + mx_lines + age), hosts


def _policy(slug: str, leg: str, dom: Domain, pd: str) -> dict:
    if leg == "none":
        if slug == "stalwart":
            return {"policy-type": "no-policy-found", "policy-string": [], "policy-domain": pd,
                    "mx-host": []}
        if slug == "postfix":
            return {"policy-type": "no-policy-found"}  # older sys4: no policy-domain (quirk 20)
        return {"policy-type": "no-policy-found", "policy-domain": pd}
    if leg == "tlsa":
        if slug == "microsoft":  # one string holding a JSON array, upper-case hex (quirk 21)
            enc = json.dumps([t.upper() for t in dom.tlsa], separators=(",", ":"))
            return {"policy-type": "tlsa", "policy-string": [enc], "policy-domain": pd}
        tlsa = [dom.tlsa[dom.mx.index(pd)]] if pd in dom.mx else list(dom.tlsa)
        p = {"policy-type": "tlsa", "policy-string": tlsa, "policy-domain": pd}
        if slug == "stalwart":
            p["mx-host"] = []
        return p
    lines, hosts = _sts_strings(dom, slug == "stalwart")
    if slug == "mailru":
        return {"policy-domain": pd, "policy-type": "sts"}  # no policy-string, no mx-host
    p = {"policy-type": "sts", "policy-string": lines, "policy-domain": pd}
    if slug != "microsoft":
        p["mx-host"] = hosts
    return p


def _failures(r: random.Random, slot: Slot, dom: Domain, when: str) -> tuple[int, list[dict]]:
    """Failed sessions of this report (from the domain's incidents plus rare stray noise)."""
    if dom.background:
        return scenario_failures(r, slot, dom, when)
    host = dom.mx.index(slot.policy_domain) if slot.policy_domain != dom.name else None
    left, out = slot.sessions, []
    incidents = [i for i in active(dom, slot.day) if visible(i.result_type, slot.legs)
                 and (host is None or i.mx in (None, host))]
    pending = sum(i.forced for i in incidents)
    for inc in sorted(incidents, key=lambda i: not i.forced):
        f = int(slot.sessions * inc.share + r.random())
        if inc.forced:  # keep room for each forced incident still to come
            pending -= 1
            least = 2 if slot.slug == "mailru" else 1
            f = max(0, min(max(f, least), left - least * pending))
        f = min(left, f)
        if f:
            left -= f
            mx = host if host is not None else inc.mx
            out += details(r, slot.slug, inc.result_type, f, dom, mx, when)
            if inc.result_type in ("certificate-expired", "certificate-host-mismatch") \
                    and slot.slug in ("google", "stalwart", "postfix") and r.random() < 0.15:
                # Result types are non-exclusive: the same sessions listed under a second type.
                other = {"certificate-expired": "certificate-host-mismatch"}.get(
                    inc.result_type, "certificate-expired")
                out.append({**out[-1], "result-type": other})
    if left and r.random() < 0.015:  # a stray middlebox or a broken sender on a quiet day
        f = min(left, int(r.paretovariate(1.5)))
        rt = r.choice(("validation-failure", "starttls-not-supported", "certificate-not-trusted"))
        out += details(r, slot.slug, rt, f, dom, host, when)
        left -= f
    return slot.sessions - left, out


def build(r: random.Random, env: random.Random, dom: Domain, slot: Slot, day: Day,
          cache: dict) -> Built:
    """`r` is the domain's report stream (consumed in slot order), `env` its envelope stream,
    `cache` a per-domain dict for policy blocks (shared between reports: nothing mutates them)."""
    rep = BY_SLUG[slot.slug]
    start, pd, slug = day.unix, slot.policy_domain, slot.slug
    generated, sent = _times(r, slug, start + 86400, slot.part)
    t0, t1 = f"{day.iso}T00:00:00Z", f"{day.iso}T23:59:59Z"
    end = start + 86399
    if rep.next_midnight:
        end = start + 86400
        t1 = f"{day.next_iso}T00:00:00Z"
    if slug == "google":
        rid, uid = f"{t0}_{pd}", "001"
    elif slug == "microsoft":
        uid = str((generated + FILETIME_EPOCH) * 10_000_000 + r.randrange(10_000_000))
        rid = f"{uid}+" if r.random() < 0.02 else f"{uid}+{pd}"  # bare '+' (quirk 30)
        if r.random() < 0.1:
            t0, t1 = t0[:-1], t1[:-1]  # naive date-times, 2023-24 style (quirk 17)
    elif slug == "mailru":
        h = f"{r.getrandbits(128):032x}"
        rid, uid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}@mail.ru", None
    elif slug == "stalwart":
        rid, uid = f"{start}_{r.getrandbits(64)}", None
    else:
        rid, uid = f"{day.iso}_idx{slot.part}_{pd}", f"idx{slot.part}"
    failed, fds = _failures(r, slot, dom, f"{day.iso}T08:14:52Z")
    stated = failed
    if slug == "mailru" and failed >= 2 and (r.random() < 0.35 or any(
            i.forced for i in active(dom, slot.day))):
        stated = failed // 2  # Mail.ru totals disagree with the details (quirk 24)
    summary = {"total-successful-session-count": slot.sessions - failed,
               "total-failure-session-count": stated}
    policies = []
    for leg in slot.legs.split("+"):  # Microsoft: same sessions under sts and tlsa
        key = (slug, leg, pd)
        if key not in cache:  # a domain's policy blocks repeat in each of its reports
            cache[key] = _policy(slug, leg, dom, pd)
        leg_fds, leg_summary = fds, summary
        if dom.background and "+" in slot.legs:
            # Scenario ground truth is per policy: a DANE failure only under tlsa, a fetch error
            # only under sts (the ordinary corpus repeats every detail under both legs).
            leg_fds = [d for d in fds if visible(d["result-type"], leg)]
            bad = sum(d["failed-session-count"] for d in leg_fds)
            leg_summary = {"total-successful-session-count": slot.sessions - bad,
                           "total-failure-session-count": bad}
        entry = {"policy": cache[key], "summary": leg_summary}
        if leg_fds or slug == "stalwart":
            entry["failure-details"] = leg_fds  # Stalwart always sends the key, often as []
        policies.append(entry)
    report = {"organization-name": rep.org,
              "date-range": {"start-datetime": t0, "end-datetime": t1},
              "contact-info": rep.contact, "report-id": rid, "policies": policies}
    payload = _ENCODERS.get(slug, _compact)(report)
    name = f"{rep.sender}!{pd}!{start}!{end}" + (f"!{uid}" if uid else "") + ".json.gz"
    return Built(slug, report, payload.encode(), name, rid, pd, generated, sent, env)


_compact = json.JSONEncoder(separators=(",", ":")).encode
_ENCODERS = {
    "mailru": json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode,  # Go sorts map keys
    "postfix": json.JSONEncoder().encode,  # Python's default ", " and ": " separators
}


def streams(seed: int, dom: Domain) -> tuple[random.Random, random.Random]:
    """(report stream, envelope stream) for one domain."""
    return rng_for(seed, S_REPORT, dom.index), rng_for(seed, S_ENVELOPE, dom.index)
