"""The words and the JSON of one alert: a subject line, a plain-text body, a webhook payload.

Problem titles and lists carry report fields (MX names, reporters): the subject and the body
show them through `visible`, so CR/LF cannot start a mail header (or a forged body line) and an
escape sequence cannot reach a terminal. The webhook's `problem` object keeps the values as
they are (JSON quotes them)."""

from __future__ import annotations

import textwrap
from datetime import datetime

from pipeline.alerts.decide import Event
from pipeline.plain_text import visible

VERB = {"opened": "New problem", "worsened": "Worse", "resolved": "Resolved"}

REMINDER = (
    "About these numbers: TLS reports (RFC 8460) are sent by other organisations (Google, Microsoft, ...)\n"
    "about mail they delivered, or tried to deliver, TO your domains. A failure means a sender could not\n"
    "reach your mail servers over a verified TLS connection; under MTA-STS enforce or DANE such mail is\n"
    "delayed and then bounced back to that sender, so you may never see it."
)


def subject(event: Event) -> str:
    problem = event.problem
    severity = "" if event.event == "resolved" else f" {problem.severity}"
    return f"[TLS-RPT{severity}] {VERB[event.event]}: {visible(problem.title)}"


def _listed(values: tuple[str, ...], limit: int = 10) -> str:
    if not values:
        return "-"
    shown = ", ".join(visible(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _wrapped(text: str) -> str:
    return textwrap.fill(visible(text or "-"), width=78, initial_indent="  ", subsequent_indent="  ")


def body(event: Event) -> str:
    p = event.problem
    title = visible(p.title)
    if event.event == "resolved":
        headline = f"Resolved: {title}\n({event.reason})"
    elif event.event == "worsened":
        headline = f"Worse: {title}\n({event.reason})"
    else:
        headline = f"{title}\n({event.reason}; severity {p.severity})"
    rate = f"; peak failure rate {p.peak_failure_rate:.1%}" if p.peak_failure_rate is not None else ""
    impact = {
        "silent_reporter": "no reports arrive from this reporter, so its view of your mail is missing",
        "intake_stale": "no reports arrive at all: every problem after the last arrival is invisible",
    }.get(p.kind, f"{p.sessions_affected:,} sessions affected{rate}")
    lines = [
        headline,
        "",
        "What is wrong",
        f"  {title} ({p.kind}, cause {p.cause})",
        "",
        "Where",
        f"  Policy domain:        {visible(p.policy_domain or 'several domains')}",
        f"  Affected domains:     {_listed(p.affected_domains)}",
        f"  Your MX hosts:        {_listed(p.affected_mx_hosts)}",
        f"  Your receiving IPs:   {_listed(p.affected_ips)}",
        f"  Sending IPs (theirs): {_listed(p.affected_sending_ips)}",
        f"  Reported by:          {_listed(p.affected_reporters)}",
        "",
        "Since when",
        f"  First seen {p.first_seen or '-'}, last seen {p.last_seen or '-'}"
        f" (reports received up to {p.data_through or '-'})",
        f"  Status: {p.status}" + (f" since {p.resolved_on}" if p.resolved_on else ""),
        "",
        "Impact",
        f"  {impact}",
        "",
        "Diagnosis",
        _wrapped(p.diagnosis),
        "",
        "Fix",
        _wrapped(p.fix),
        "",
        REMINDER,
        "",
        f"Problem id: {p.problem_id}   Event id: {event.event_id}",
    ]
    return "\n".join(lines) + "\n"


def payload(event: Event, sent_at: datetime) -> dict:
    """The webhook JSON (docs/alerts.md lists the fields)."""
    return {
        "event": event.event,
        "event_id": event.event_id,
        "reason": event.reason,
        "sent_at": sent_at.isoformat(),
        "subject": subject(event),
        "problem": event.problem.to_json(),
        "text": body(event),
    }
