"""Tests for the labelled incident scenarios of the corpus generator (pipeline/generate/scenarios.py)."""

from __future__ import annotations

import gzip
import hashlib
import ipaddress
import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import NamedTuple

import pytest

from pipeline.detect.causes import REASON_PATTERNS, RESULT_TYPE_CAUSES
from pipeline.generate import write_corpus
from pipeline.generate.incidents import DEFAULT_DOMAINS, plan, resolve
from pipeline.generate.scenarios import NOISE_MIN_SESSIONS, SCENARIOS

NOISE_TYPES = {"validation-failure", "starttls-not-supported"}
INCIDENT_KEYS = ["id", "scenario", "policy_domain", "first_day", "last_day", "causes", "result_types",
                 "mx_hosts", "reporter", "sending_network", "description"]


class Row(NamedTuple):
    """One failure-details entry, with its report's context."""
    slug: str
    domain: str  # our domain (an MX host policy domain is folded into its domain)
    day: str
    policy_type: str
    result_type: str
    mx: str | None
    ip: str | None
    reason: str | None
    count: int
    report_failed: int  # max over the report's policies, as the warehouse dedupes
    report_sessions: int


class Report(NamedTuple):
    slug: str
    domain: str
    day: str
    report: dict


def _domain(policy_domain: str) -> str:
    return policy_domain.split(".", 1)[1] if policy_domain.startswith("mx") else policy_domain


def _read(out: Path) -> tuple[list[Report], list[Row]]:
    reports, rows = [], []
    for p in sorted((out / "files").rglob("*.json.gz")):
        rep = json.loads(gzip.decompress(p.read_bytes()))
        dom, day = _domain(p.name.split("!")[1]), rep["date-range"]["start-datetime"][:10]
        reports.append(Report(p.parent.name, dom, day, rep))
        sums = [pol["summary"] for pol in rep["policies"]]
        failed = max(s["total-failure-session-count"] for s in sums)
        sessions = max(s["total-failure-session-count"] + s["total-successful-session-count"] for s in sums)
        for pol in rep["policies"]:
            for fd in pol.get("failure-details") or ():
                rows.append(Row(p.parent.name, dom, day, pol["policy"]["policy-type"], fd["result-type"],
                                fd.get("receiving-mx-hostname"), fd.get("sending-mta-ip"),
                                fd.get("failure-reason-code"), fd["failed-session-count"], failed, sessions))
    return reports, rows


def _is_noise(row: Row) -> bool:
    return (row.result_type in NOISE_TYPES and row.report_failed <= 2
            and row.report_sessions >= NOISE_MIN_SESSIONS)


def _cause(row: Row) -> str:
    """The cause pipeline.detect.causes gives a detail (a reason pattern overrides the catch-all type)."""
    text = (row.reason or "").lower()
    for p in sorted(REASON_PATTERNS):
        if p.cause and re.search(p.pattern, text):
            if row.result_type == "validation-failure" or p.cause == RESULT_TYPE_CAUSES[row.result_type]:
                return p.cause
    return RESULT_TYPE_CAUSES[row.result_type]


def _in(day: str, inc: dict) -> bool:
    return inc["first_day"] <= day and (inc["last_day"] is None or day <= inc["last_day"])


@pytest.fixture(scope="module")
def scen(tmp_path_factory):
    out = tmp_path_factory.mktemp("scen")
    summary = write_corpus(out, seed=1, formats=("files",), scenarios=("all",))
    truth = json.loads((out / "incidents.json").read_text())
    reports, rows = _read(out)
    return out, summary, truth, reports, rows


def _incident(truth: dict, name: str) -> dict:
    (inc,) = [i for i in truth["incidents"] if i["scenario"] == name]
    return inc


def _tree(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_args_same_bytes(tmp_path, scen):
    out = scen[0]
    write_corpus(tmp_path / "again", seed=1, formats=("files",), scenarios=list(SCENARIOS))
    assert _tree(tmp_path / "again") == _tree(out)


def test_incidents_json_shape(scen):
    out, summary, truth, reports, _ = scen
    assert list(truth) == ["seed", "start", "end", "days", "clean_domains", "incidents"]
    assert (truth["seed"], truth["start"], truth["end"], truth["days"]) == (1, "2026-01-01", "2026-03-31", 90)
    assert [i["id"] for i in truth["incidents"]] == list(SCENARIOS)
    causes = {"cert-expiry": ["certificate_expired"], "sts-host-down": ["sts_policy_fetch_failed"],
              "starttls-stripped": ["starttls_stripped"], "reporter-silent": ["reporter_silent"],
              "mx-migration": ["mx_not_in_policy"], "dane-rollover": ["tlsa_mismatch"]}
    broken = set()
    for inc in truth["incidents"]:
        assert list(inc) == INCIDENT_KEYS
        assert inc["causes"] == causes[inc["scenario"]]
        assert "2026-02-01" < inc["first_day"] <= "2026-03-27"  # a baseline before, days after
        assert inc["last_day"] is None or inc["first_day"] <= inc["last_day"] < "2026-03-31"
        if inc["policy_domain"]:
            broken.add(inc["policy_domain"])
    assert len(broken) == 5  # each scenario on its own domain; reporter-silent has none
    assert _incident(truth, "reporter-silent")["reporter"] == "google.com"
    everything = {f"example-{i:04d}.test" for i in range(1, DEFAULT_DOMAINS + 1)}
    assert set(truth["clean_domains"]) == everything - broken
    assert {r.domain for r in reports} == everything
    ground = json.loads((out / "ground_truth.json").read_text())
    assert ground["reports"] == summary.reports == len(reports)
    assert ground["policy_domains"] == DEFAULT_DOMAINS and ground["days"] == 90


def test_background_has_only_noise(scen):
    _, _, truth, _, rows = scen
    clean = [r for r in rows if r.domain in truth["clean_domains"]]
    assert clean, "the busiest background domain shows some noise"
    for r in clean:
        assert _is_noise(r), r
        assert r.report_failed / r.report_sessions < 0.01


def test_every_failure_is_the_incident_or_noise(scen):
    """Each scenario domain fails only where its ground truth says (reason texts included)."""
    _, _, truth, _, rows = scen
    by_domain = {i["policy_domain"]: i for i in truth["incidents"] if i["policy_domain"]}
    seen = Counter()
    for r in rows:
        inc = by_domain.get(r.domain)
        if inc is None or _is_noise(r) and not (_in(r.day, inc) and r.result_type in inc["result_types"]):
            continue
        assert _in(r.day, inc) and r.result_type in inc["result_types"], r
        if inc["mx_hosts"] and r.mx is not None:
            assert r.mx in inc["mx_hosts"], r
        if inc["scenario"] != "starttls-stripped":  # that diagnosis needs the network, not the text
            assert _cause(r) in inc["causes"], r
        seen[inc["scenario"]] += r.count
    assert set(seen) == set(by_domain[d]["scenario"] for d in by_domain)


def test_cert_expiry_one_mx_share_every_reporter(scen):
    _, _, truth, reports, rows = scen
    inc = _incident(truth, "cert-expiry")
    hit = [r for r in rows if r.domain == inc["policy_domain"] and r.result_type == "certificate-expired"]
    assert {r.mx for r in hit} == set(inc["mx_hosts"])
    senders = {p.slug for p in reports if p.domain == inc["policy_domain"] and _in(p.day, inc)}
    assert {r.slug for r in hit} == senders
    sessions = sum(max(pol["summary"]["total-successful-session-count"] + pol["summary"]["total-failure-session-count"]
                       for pol in p.report["policies"])
                   for p in reports if p.domain == inc["policy_domain"] and _in(p.day, inc))
    assert 0.35 < sum(r.count for r in hit) / sessions < 0.55


def test_sts_host_down_fails_nearly_all_sts_sessions_then_recovers(scen):
    _, _, truth, reports, rows = scen
    inc = _incident(truth, "sts-host-down")
    hit = [r for r in rows if r.domain == inc["policy_domain"] and r.result_type == "sts-policy-fetch-error"]
    assert {r.policy_type for r in hit} == {"sts"} and all(_in(r.day, inc) for r in hit)
    sts = sum(pol["summary"]["total-successful-session-count"] + pol["summary"]["total-failure-session-count"]
              for p in reports if p.domain == inc["policy_domain"] and _in(p.day, inc) and p.slug != "mailru"
              for pol in p.report["policies"] if pol["policy"]["policy-type"] == "sts")
    assert sum(r.count for r in hit if r.slug != "mailru") >= 0.9 * sts  # Mail.ru totals halve (quirk 24)
    assert {r.reason for r in hit} & {"sts-policy-fetch-error: HTTP 503", "HTTP 503", "bad https response code: 503"}


def test_starttls_stripped_one_network_one_reporter(scen):
    _, _, truth, _, rows = scen
    inc = _incident(truth, "starttls-stripped")
    net = ipaddress.ip_network(inc["sending_network"])
    hit = [r for r in rows if r.domain == inc["policy_domain"] and not _is_noise(r)]
    assert hit and {r.slug for r in hit} == {"google"} and inc["reporter"] == "google.com"
    assert all(ipaddress.ip_address(r.ip) in net and _in(r.day, inc) for r in hit)
    assert 5 <= len({r.day for r in hit}) <= 10


def test_reporter_silent_writes_nothing_after_first_day(scen):
    _, _, truth, reports, _ = scen
    inc = _incident(truth, "reporter-silent")
    google_days = {p.day for p in reports if p.slug == "google"}
    assert max(google_days) < inc["first_day"]
    assert len(google_days) == date.fromisoformat(inc["first_day"]).toordinal() - date(2026, 1, 1).toordinal()
    assert any(p.day >= inc["first_day"] for p in reports if p.slug == "microsoft")


def test_mx_migration_new_host_not_in_policy(scen):
    _, _, truth, reports, rows = scen
    inc = _incident(truth, "mx-migration")
    (new,) = inc["mx_hosts"]
    hit = [r for r in rows if r.domain == inc["policy_domain"] and r.mx == new]
    assert hit and {r.result_type for r in hit} == {"validation-failure"}
    assert min(r.day for r in hit) >= inc["first_day"]
    for p in reports:
        if p.domain != inc["policy_domain"]:
            continue
        for pol in p.report["policies"]:
            lines = [s[4:] for s in pol["policy"].get("policy-string", []) if s.startswith("mx: ")]
            patterns = lines + pol["policy"].get("mx-host", [])
            assert not any(m == new or m.startswith("*.") and new.split(".", 1)[1] == m[2:] for m in patterns)


def test_dane_rollover_only_tlsa_policies_every_mx(scen):
    _, _, truth, reports, rows = scen
    inc = _incident(truth, "dane-rollover")
    hit = [r for r in rows if r.domain == inc["policy_domain"] and r.result_type == "tlsa-invalid"]
    assert {r.policy_type for r in hit} == {"tlsa"} and all(_in(r.day, inc) for r in hit)
    assert {r.mx for r in hit} == set(inc["mx_hosts"])
    assert {r.slug for r in hit} <= {"microsoft", "postfix", "stalwart"}
    both = [p for p in reports if p.domain == inc["policy_domain"] and len(p.report["policies"]) == 2]
    for p in both:  # Microsoft: the sts leg of the same sessions stays clean
        sts = [pol for pol in p.report["policies"] if pol["policy"]["policy-type"] == "sts"]
        assert all(not pol.get("failure-details") or {fd["result-type"] for fd in pol["failure-details"]} <= NOISE_TYPES
                   for pol in sts)


def test_clean_background_and_scenario_names(tmp_path):
    assert resolve(["clean"]) == () and resolve(["all", "cert-expiry"]) == tuple(SCENARIOS)
    with pytest.raises(ValueError, match="unknown scenario"):
        resolve(["nope"])
    write_corpus(tmp_path, seed=2, days=30, domains=4, formats=("files",), scenarios=["clean"])
    truth = json.loads((tmp_path / "incidents.json").read_text())
    assert truth["incidents"] == [] and len(truth["clean_domains"]) == 4 and truth["days"] == 30
    _, rows = _read(tmp_path)
    assert all(_is_noise(r) for r in rows)


def test_too_few_domains_says_how_many(tmp_path):
    with pytest.raises(ValueError, match=r"3 domains are too few .* use --domains \d+"):
        write_corpus(tmp_path / "x", seed=1, domains=3, scenarios=["all"])
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("seed", range(8))
def test_every_seed_finds_domains_for_every_scenario(seed):
    n, p = plan(seed, None, 90, resolve(["all"]))
    assert n >= DEFAULT_DOMAINS and len(p.by_domain) == 5 and p.silent is not None
    by_name = {inj.scenario: p.doms[i] for i, inj in p.by_domain.items()}
    assert len(by_name["cert-expiry"].mx) == 2 and by_name["dane-rollover"].dane
    assert by_name["mx-migration"].sts_since == by_name["sts-host-down"].sts_since == 0


def test_cli_scenario_all(tmp_path, scen):
    env = {**os.environ, "COLUMNS": "200"}
    cmd = [sys.executable, "-m", "pipeline", "generate", "--scenario", "all", "--seed", "1",
           "--formats", "files", str(tmp_path / "out")]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "cert-expiry: example-" in result.stdout and "incidents.json" in result.stdout
    assert (tmp_path / "out" / "incidents.json").read_bytes() == (scen[0] / "incidents.json").read_bytes()
    bad = subprocess.run([*cmd[:5], "nope", str(tmp_path / "bad")], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "unknown scenario" in bad.stderr and "Traceback" not in bad.stderr
