"""Which messages to send: the current problems against what each channel was last told. Pure.

Per channel and problem (routing by any of the problem's affected_domains):
- opened: an open problem at or above the channel's min_severity that the channel was never told
  about, or was last told was resolved (a reopened problem);
- worsened: the channel was told it opened, and since that last message the severity rank rose
  or sessions_affected at least doubled; held back while the last message about the problem
  to that channel is younger than suppress_hours (then compared again with that message);
- resolved: the channel was told it opened, and now the row says status = 'resolved' or the row
  is gone from detect.problems. "Gone" counts only while the table holds other rows: an empty
  table more likely means a broken build than every problem fixed at once. Resolved messages
  ignore routing and min_severity (they close what the channel was told) and are never held back.
A channel whose last message about a problem is the event decided now gets nothing (no
duplicates); the state moves only when a channel accepted the message (pipeline/alerts/run.py).

A problem keeps its id when a late report moves its first day earlier (docs/detection.md,
"problem identity"): that is no news for a channel, so it sends nothing; the change is a
`Change`, which the run writes into the problem's alert history (State.note_change).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pipeline.alerts.config import SEVERITY_RANK, AlertsConfig, Channel
from pipeline.alerts.problems import Problem
from pipeline.alerts.state import ALERTING, Sent, State

RANK_NAME = {rank: name for name, rank in SEVERITY_RANK.items()}


@dataclass(frozen=True)
class Event:
    channel: str
    event: str  # opened | worsened | resolved
    problem: Problem
    reason: str  # why, in words: "new problem", "severity warning -> critical", ...
    sequence: int  # the nth message about this problem to this channel

    @property
    def event_id(self) -> str:
        """Same on a retry of the same message, so a receiver can drop a copy."""
        key = f"{self.channel}|{self.problem.problem_id}|{self.sequence}|{self.event}"
        return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Held:
    """A worsened alert held back by suppress_hours (shown by the dry run)."""

    channel: str
    problem: Problem
    reason: str
    until: datetime


@dataclass(frozen=True)
class Change:
    """A problem already alerted on whose first day moved (a late report): history, not a message."""

    problem: Problem
    change: str  # "first seen moved from 2026-11-20 to 2026-11-18"


@dataclass(frozen=True)
class Decision:
    events: tuple[Event, ...]
    held: tuple[Held, ...]
    changes: tuple[Change, ...] = ()


def _changes(current: dict[str, Problem], state: State) -> tuple[Change, ...]:
    out = []
    for problem_id, problem in sorted(current.items()):
        known = state.problem(problem_id)
        if known is not None and known.first_seen != problem.first_seen:
            out.append(Change(problem, f"first seen moved from {known.first_seen} to {problem.first_seen}"))
    return tuple(out)


def domain_matches(pattern: str, domain: str) -> bool:
    """`example.com` matches itself only; `*.example.org` matches any name below example.org."""
    pattern, domain = pattern.lower().rstrip("."), domain.lower().rstrip(".")
    if pattern.startswith("*."):
        return domain.endswith(pattern[1:])
    return domain == pattern


def routes(channel: Channel, problem: Problem) -> bool:
    if not channel.domains:
        return True
    domains = problem.affected_domains or ((problem.policy_domain,) if problem.policy_domain else ())
    return any(domain_matches(p, d) for p in channel.domains for d in domains)


def _worse(problem: Problem, last: Sent) -> str:
    reasons = []
    if problem.severity_rank > last.severity_rank:
        reasons.append(f"severity {RANK_NAME.get(last.severity_rank, last.severity_rank)} -> {problem.severity}")
    # "at least doubled"; from 0 any session counts as doubling from 1
    if problem.sessions_affected > 0 and problem.sessions_affected >= 2 * max(last.sessions_affected, 1):
        reasons.append(f"sessions affected {last.sessions_affected:,} -> {problem.sessions_affected:,}")
    return "; ".join(reasons)


def _one(channel: Channel, problem: Problem, last: Sent | None, config: AlertsConfig, now: datetime):
    told_open = last is not None and last.event in ALERTING
    sequence = (last.alerts if last else 0) + 1
    if not problem.is_open:
        if told_open:
            when = f" on {problem.resolved_on.isoformat()}" if problem.resolved_on else ""
            return Event(channel.name, "resolved", problem, f"marked resolved{when}", sequence)
        return None
    if not routes(channel, problem) or problem.severity_rank < channel.min_rank:
        return None
    if not told_open:
        reason = "reopened after it was resolved" if last is not None else "new problem"
        return Event(channel.name, "opened", problem, reason, sequence)
    reason = _worse(problem, last)
    if not reason:
        return None
    until = last.sent_at + timedelta(hours=config.suppress_hours)
    if now < until:
        return Held(channel.name, problem, reason, until)
    return Event(channel.name, "worsened", problem, reason, sequence)


def decide(problems: tuple[Problem, ...] | list[Problem], state: State, config: AlertsConfig, now: datetime) -> Decision:
    current = {p.problem_id: p for p in problems}
    events: list[Event] = []
    held: list[Held] = []
    for channel in config.channels:
        for problem in current.values():
            outcome = _one(channel, problem, state.last(channel.name, problem.problem_id), config, now)
            if isinstance(outcome, Event):
                events.append(outcome)
            elif isinstance(outcome, Held):
                held.append(outcome)
        if not current:
            continue  # an empty mart resolves nothing (see the module docstring)
        for problem_id in state.problem_ids():
            last = state.last(channel.name, problem_id)
            gone = state.problem(problem_id)
            if problem_id in current or last is None or last.event not in ALERTING or gone is None:
                continue
            gone = replace(gone, status="resolved", resolved_on=None)
            events.append(Event(channel.name, "resolved", gone, "no longer detected in detect.problems", last.alerts + 1))
    return Decision(tuple(events), tuple(held), _changes(current, state))
