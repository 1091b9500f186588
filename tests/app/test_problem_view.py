"""Report-sourced text reaches Markdown escaped; a problem exports as a plain Markdown ticket."""

from __future__ import annotations

from datetime import date

from app.problem_view import as_markdown
from app.safe_text import literal


def test_report_sourced_markdown_is_never_interpreted():
    hostile = "**mx1** [click](javascript:alert(1)) :red[x] <b>y</b> $x$ `z` _a_"
    escaped = literal(hostile)
    for raw in ("**", "[click]", ":red[", "<b>", "$x$", "`z`", "_a_"):
        assert raw not in escaped
    # Every escape is a backslash before the character (or an invisible word joiner that breaks
    # an autolink or emoji code): Markdown renders the original text.
    assert escaped.replace("\\", "").replace("\u2060", "") == hostile


def test_a_problem_as_a_markdown_ticket():
    row = {"title": "Expired MX certificate on mx2.example.com (example.com)", "severity": "critical", "status": "open",
           "first_seen": date(2026, 3, 1), "last_seen": date(2026, 3, 4), "resolved_on": None, "detected_on": date(2026, 3, 2),
           "sessions_affected": 1234, "affected_mx_hosts": ["mx2.example.com"], "affected_reporters": ["google.com"],
           "affected_sending_networks": [], "affected_ips": [], "affected_domains": ["example.com"], "reason_codes": [],
           "diagnosis": "Senders found an expired certificate.", "fix": "Renew it.", "problem_id": "p1"}
    ticket = as_markdown(row)
    assert ticket.startswith("## Expired MX certificate on mx2.example.com (example.com)\n")
    assert "- Severity: critical (open, open since 2026-03-01, last seen 2026-03-04)" in ticket
    assert "- Failed sessions: 1,234" in ticket and "- MX hosts: mx2.example.com" in ticket and "Sending networks" not in ticket
    assert "### What to do\n\nRenew it." in ticket
