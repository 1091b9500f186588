"""Alert decisions (pure): opened / worsened / resolved per channel, suppression, routing, no
duplicates; plus the config's one-line errors and the state file round trip."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline.alerts.config import AlertsConfig, AlertsConfigError, Channel, load_config, resolve_secrets
from pipeline.alerts.decide import decide, domain_matches
from pipeline.alerts.problems import Problem
from pipeline.alerts.send import sign
from pipeline.alerts.state import State, load_state, save_state

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
RANK = {"info": 1, "warning": 2, "critical": 3}


def problem(pid: str = "p1", severity: str = "critical", sessions: int = 100, status: str = "open",
            domains: tuple[str, ...] = ("example.com",)) -> Problem:
    return Problem(
        problem_id=pid, kind="tls_failure", cause="certificate_expired", title=f"Expired certificate ({pid})",
        policy_domain=domains[0] if len(domains) == 1 else None, affected_domains=domains, status=status,
        resolved_on=date(2026, 11, 28) if status == "resolved" else None, severity=severity,
        severity_rank=RANK[severity], first_seen=date(2026, 11, 20), last_seen=date(2026, 11, 27),
        sessions_affected=sessions, peak_failure_rate=0.5, diagnosis="d", fix="f", anomaly_count=1,
        data_through=date(2026, 11, 27),
    )


def config(*channels: Channel, suppress_hours: float = 24) -> AlertsConfig:
    return AlertsConfig(path=Path("alerts.toml"), channels=channels or (Channel("webhook", "hook"),),
                        suppress_hours=suppress_hours)


def sent(state: State, decision, when: datetime = NOW) -> None:
    """What run.py does for every accepted message."""
    for event in decision.events:
        state.record(event.channel, event.event, event.problem, when)


def kinds(decision) -> list[tuple[str, str, str]]:
    return [(e.channel, e.event, e.problem.problem_id) for e in decision.events]


def test_new_problem_opens_once():
    state, cfg = State(), config()
    first = decide([problem()], state, cfg, NOW)
    assert kinds(first) == [("hook", "opened", "p1")]
    sent(state, first)
    assert decide([problem()], state, cfg, NOW + timedelta(hours=1)).events == ()


def test_below_min_severity_is_quiet_until_it_rises():
    state, cfg = State(), config()
    assert decide([problem(severity="info")], state, cfg, NOW).events == ()
    assert kinds(decide([problem(severity="warning")], state, cfg, NOW)) == [("hook", "opened", "p1")]


def test_worsened_on_severity_or_doubled_sessions_respects_suppression():
    state, cfg = State(), config()
    sent(state, decide([problem(severity="warning", sessions=100)], state, cfg, NOW))
    worse = [problem(severity="critical", sessions=150)]
    inside = decide(worse, state, cfg, NOW + timedelta(hours=23))
    assert inside.events == () and len(inside.held) == 1 and "severity warning -> critical" in inside.held[0].reason
    after = decide(worse, state, cfg, NOW + timedelta(hours=25))
    assert kinds(after) == [("hook", "worsened", "p1")]
    sent(state, after, NOW + timedelta(hours=25))
    # compared with the last alert (critical, 150): 299 is not double, 300 is (after the window)
    assert decide([problem(sessions=299)], state, cfg, NOW + timedelta(hours=60)).events == ()
    assert kinds(decide([problem(sessions=300)], state, cfg, NOW + timedelta(hours=60))) == [("hook", "worsened", "p1")]


def test_resolved_by_status_and_by_disappearing_only_after_an_alert():
    state, cfg = State(), config()
    sent(state, decide([problem("p1"), problem("p2")], state, cfg, NOW))
    decision = decide([problem("p1", status="resolved"), problem("p3", status="resolved")], state, cfg, NOW)
    assert sorted(kinds(decision)) == [("hook", "resolved", "p1"), ("hook", "resolved", "p2")]
    gone = next(e for e in decision.events if e.problem.problem_id == "p2")
    assert gone.problem.status == "resolved" and "no longer detected" in gone.reason
    sent(state, decision)
    assert decide([problem("p1", status="resolved")], state, cfg, NOW).events == ()


def test_empty_mart_resolves_nothing():
    state, cfg = State(), config()
    sent(state, decide([problem()], state, cfg, NOW))
    assert decide([], state, cfg, NOW).events == ()


def test_reopened_problem_opens_again_with_a_new_event_id():
    state, cfg = State(), config()
    first = decide([problem()], state, cfg, NOW)
    sent(state, first)
    sent(state, decide([problem(status="resolved")], state, cfg, NOW))
    again = decide([problem()], state, cfg, NOW)
    assert kinds(again) == [("hook", "opened", "p1")] and "reopened" in again.events[0].reason
    assert again.events[0].event_id != first.events[0].event_id


def test_routing_by_any_affected_domain_and_wildcards():
    ops = Channel("webhook", "ops")
    org = Channel("smtp", "org", domains=("*.example.org",))
    com = Channel("smtp", "com", domains=("example.com",))
    cfg = config(ops, org, com)
    problems = [problem("a", domains=("example.com",)), problem("b", domains=("mx.example.org",)),
                problem("c", domains=("example.org", "example.com"))]
    assert sorted(kinds(decide(problems, State(), cfg, NOW))) == [
        ("com", "opened", "a"), ("com", "opened", "c"), ("ops", "opened", "a"), ("ops", "opened", "b"),
        ("ops", "opened", "c"), ("org", "opened", "b"),
    ]
    assert domain_matches("*.example.org", "a.b.example.org.") and not domain_matches("*.example.org", "example.org")
    assert not domain_matches("example.com", "notexample.com")


def test_a_channel_that_failed_gets_it_next_time_the_other_does_not():
    state, cfg = State(), config(Channel("webhook", "good"), Channel("webhook", "bad"))
    decision = decide([problem()], state, cfg, NOW)
    for event in decision.events:
        if event.channel == "good":
            state.record(event.channel, event.event, event.problem, NOW)
    retry = decide([problem()], state, cfg, NOW)
    assert kinds(retry) == [("bad", "opened", "p1")]
    assert retry.events[0].event_id == next(e for e in decision.events if e.channel == "bad").event_id


def test_state_round_trips_through_the_file(tmp_path: Path):
    state, cfg = State(), config()
    sent(state, decide([problem()], state, cfg, NOW))
    save_state(tmp_path, state)
    again = load_state(tmp_path)
    assert again.last("hook", "p1") == state.last("hook", "p1")
    assert again.problem("p1") == problem()
    assert not list((tmp_path / "alerts").glob(".state-*"))
    assert json.loads((tmp_path / "alerts" / "state.json").read_text())["version"] == 1


def test_old_resolved_problems_are_forgotten():
    state, cfg = State(), config()
    sent(state, decide([problem()], state, cfg, NOW))
    sent(state, decide([problem(status="resolved")], state, cfg, NOW))
    state.prune({"p1"}, NOW + timedelta(days=200))
    assert state.problem_ids() == ["p1"]  # still in the mart
    state.prune(set(), NOW + timedelta(days=200))
    assert state.problem_ids() == []


def test_signature_is_hmac_sha256_over_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign("k", "1700000000", b"{}") == f"sha256={expected}"


GOOD = """
min_severity = "warning"
suppress_hours = 12
[[webhook]]
name = "ops"
url = "https://hooks.example.net/tlsrpt"
secret_env = "HOOK_SECRET"
domains = ["example.com", "*.example.org"]
[[smtp]]
host = "smtp.example.net"
username = "alerts"
password_env = "SMTP_PASSWORD"
from = "tlsrpt@example.net"
to = ["postmaster@example.com"]
min_severity = "critical"
"""


def test_config_parses_with_defaults(tmp_path: Path):
    path = tmp_path / "alerts.toml"
    path.write_text(GOOD)
    cfg = load_config(path)
    hook, mail = cfg.channels
    assert cfg.suppress_hours == 12 and hook.name == "ops" and hook.domains == ("example.com", "*.example.org")
    assert mail.port == 587 and mail.starttls and mail.min_severity == "critical" and mail.name.startswith("smtp:")
    with pytest.raises(AlertsConfigError, match="HOOK_SECRET is not set"):
        resolve_secrets(cfg)


@pytest.mark.parametrize(("text", "key"), [
    ("[[webhook]]\nurl = 'https://x'\n", "webhook[0].secret"),
    ("[[webhook]]\nurl = 'ftp://x'\nsecret = 's'\n", "webhook[0].url"),
    ("[[smtp]]\nhost = 'h'\nstarttls = false\nusername = 'u'\npassword_env = 'P'\nfrom = 'a@b'\nto = ['c@d']\n", "smtp[0].starttls"),
    ("[[smtp]]\nhost = 'h'\nfrom = 'a@b'\nto = []\n", "smtp[0].to"),
    ("[[smtp]]\nhost = 'h'\nport = '25'\nfrom = 'a@b'\nto = ['c@d']\n", "smtp[0].port"),
    ("min_severity = 'loud'\n[[apprise]]\nurls = ['json://127.0.0.1/']\n", "min_severity"),
    ("[[apprise]]\nurls = ['nonsense://x']\n", "apprise[0].urls"),
    ("[[webhook]]\nurl = 'https://x'\nsecret = 's'\nsecrett = 't'\n", "webhook[0].secrett"),
    ("suppress_hours = 1\n", "(channels)"),
    ("[[webhook]\n", "(syntax)"),
])
def test_bad_config_is_one_line_naming_file_and_key(tmp_path: Path, text: str, key: str):
    path = tmp_path / "alerts.toml"
    path.write_text(text)
    with pytest.raises(AlertsConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert isinstance(caught.value, ValueError) and "\n" not in message.strip()
    assert message.startswith(f"{path}: {key}:"), message


def test_a_moved_first_day_is_history_not_a_message(tmp_path: Path):
    state, cfg = State(), config()
    sent(state, decide([problem()], state, cfg, NOW))
    earlier = replace(problem(), first_seen=date(2026, 11, 18))
    decision = decide([earlier], state, cfg, NOW + timedelta(hours=1))
    assert decision.events == ()
    assert [c.change for c in decision.changes] == ["first seen moved from 2026-11-20 to 2026-11-18"]
    for change in decision.changes:
        state.note_change(change, NOW + timedelta(hours=1))
    save_state(tmp_path, state)
    reloaded = load_state(tmp_path)
    assert [c["change"] for c in reloaded.history("p1")] == ["first seen moved from 2026-11-20 to 2026-11-18"]
    assert decide([earlier], reloaded, cfg, NOW + timedelta(hours=2)).changes == ()  # noted once


def test_the_pass_prints_a_moved_first_day():
    from io import StringIO

    from rich.console import Console

    from pipeline.alerts.report import print_run
    from pipeline.alerts.run import AlertsRun

    state, cfg = State(), config()
    sent(state, decide([problem()], state, cfg, NOW))
    decision = decide([replace(problem(), first_seen=date(2026, 11, 18))], state, cfg, NOW)
    out = StringIO()
    print_run(AlertsRun(config=cfg, decision=decision), Console(file=out, width=200))
    assert "Expired certificate (p1): first seen moved from 2026-11-20 to 2026-11-18" in out.getvalue()


def test_an_intake_problem_reads_as_one():
    from pipeline.alerts.decide import Event
    from pipeline.alerts.render import body

    stopped = replace(problem(), kind="intake_stale", cause="intake_stale", policy_domain=None, affected_domains=(),
                      title="No reports arriving since 2026-11-20", sessions_affected=0, peak_failure_rate=None,
                      diagnosis="Nothing arrived since 2026-11-20: check the mailbox, the receiver, the schedule.")
    text = body(Event("hook", "opened", stopped, "new problem", 1))
    assert "no reports arrive at all" in text and "sessions affected" not in text
    assert "Nothing arrived since 2026-11-20" in text
