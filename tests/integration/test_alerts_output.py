"""Alerts carry text from reports (MX names, reporters) and print channel URLs: neither may break
a mail header, a terminal or a secret (issue 15, items 6, 7 and 12)."""

from __future__ import annotations

from email import message_from_string, policy

from pipeline.alerts.run import run_alerts
from pipeline.settings import Settings
from tests.fixtures.hostile import CRLF_HOST, RICH_MARKUP, TERMINAL_ESCAPES
from tests.integration.test_alerts import (  # noqa: F401
    certs,
    http,
    mailer,
    mails,
    posts,
    problem_row,
    publish_problems,
    smtp,
    smtp_password,
    tlsrpt,
    webhook,
    write_config,
)
from tests.services import free_port


def hostile_problem(pid: str, text: str) -> dict:
    row = problem_row(pid)
    row.update(title=f"Expired certificate on {text}", affected_mx_hosts=[text], diagnosis=f"The certificate of {text} expired.")
    return row


def test_crlf_in_an_mx_name_stops_neither_the_mail_channel_nor_the_other_alerts(tmp_path, http, smtp, certs):
    data = tmp_path / "data"
    write_config(data, mailer(smtp, certs, "crlf@example.com") + webhook(http, "/crlf"))
    publish_problems(data, [hostile_problem("p-crlf", CRLF_HOST), problem_row("p-plain")])
    result = run_alerts(Settings(data_dir=data))
    assert len(result.sent) == 4 and not result.failed
    sent = [message_from_string(m["data"], policy=policy.default) for m in mails(smtp, "crlf@example.com")]
    assert len(sent) == 2
    for message in sent:
        assert message["Bcc"] is None and "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert any("mx1.example.com" in m["Subject"] and "Bcc: victim" in m["Subject"] for m in sent)  # shown, defused
    assert all(m["rcpt_tos"] == ["crlf@example.com"] for m in mails(smtp, "crlf@example.com"))
    assert len(posts(http, "/crlf")) == 2


def test_escape_sequences_and_rich_markup_print_as_text(tmp_path, http):
    data = tmp_path / "data"
    write_config(data, webhook(http, "/terminal"))
    publish_problems(data, [hostile_problem("p-esc", TERMINAL_ESCAPES), hostile_problem("p-markup", RICH_MARKUP)])
    dry = tlsrpt("alerts", "--dry-run", "--data-dir", str(data))
    assert dry.returncode == 0, dry.stderr
    assert "Traceback" not in dry.stderr and "\x1b" not in dry.stdout + dry.stderr and "\x07" not in dry.stdout
    assert "\\x1b[31mred" in dry.stdout  # visible, not interpreted
    assert RICH_MARKUP in dry.stdout
    real = tlsrpt("alerts", "--data-dir", str(data))
    assert real.returncode == 0 and "\x1b" not in real.stdout and RICH_MARKUP in real.stdout


def test_webhook_credentials_and_tokens_are_masked_in_every_printed_line(tmp_path):
    data = tmp_path / "data"
    dead = free_port()  # nothing listens: the failure line names the URL
    url = f"http://hook-user:pa55word@127.0.0.1:{dead}/services/T0SECRET/B0SECRET/XXTOKENXX?token=qu3rytoken"
    write_config(data, f'[[webhook]]\nurl = "{url}"\nsecret = "s"\n')
    publish_problems(data, [problem_row("p-mask")])
    printed = []
    for args in (("alerts", "--dry-run"), ("alerts",)):
        result = tlsrpt(*args, "--data-dir", str(data))
        printed.append(result.stdout + result.stderr)
    assert "retried on the next run" in printed[1] and f"127.0.0.1:{dead}" in printed[1]
    for secret in ("hook-user", "pa55word", "T0SECRET", "XXTOKENXX", "qu3rytoken"):
        assert all(secret not in text for text in printed), secret
