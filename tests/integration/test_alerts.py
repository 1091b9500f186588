"""Alerts against real servers on 127.0.0.1: an aiosmtpd with STARTTLS (trustme CA) and AUTH,
and an http.server recording every POST (webhooks and Apprise's json://). The problems come
from the last passed build's snapshot holding detect.problems rows, as the pipeline records it."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from email import message_from_string, policy
from pathlib import Path

import dagster as dg
import pytest
import trustme

from assets.automation import alert_sensor
from assets.resources import WarehouseResource
from pipeline.alerts.run import run_alerts
from pipeline.settings import Settings
from tests.conftest import open_warehouse, publish
from tests.services import (
    free_port,
    http_recorder_command,
    loopback_service,
    loopback_tcp_service,
    port_is_free,
    smtp_server_command,
)

SECRET = "webhook-test-secret"
SMTP_USER, SMTP_PASSWORD = "alerts", "smtp-test-password"

PROBLEMS_DDL = """
create or replace table detect.problems (
    problem_id varchar, kind varchar, cause varchar, title varchar, policy_domain varchar,
    affected_domains varchar[], status varchar, resolved_on date, severity varchar, severity_rank integer,
    first_seen date, last_seen date, affected_mx_hosts varchar[], affected_ips varchar[],
    affected_sending_ips varchar[], affected_reporters varchar[], sessions_affected bigint,
    peak_failure_rate double, diagnosis varchar, fix varchar, anomaly_count integer, data_through date
)"""


def problem_row(pid: str, domain: str = "example.com", severity: str = "critical", sessions: int = 120,
                status: str = "open") -> dict:
    return {
        "problem_id": pid, "kind": "tls_failure", "cause": "certificate_expired",
        "title": f"Expired certificate on mx2.{domain}", "policy_domain": domain, "affected_domains": [domain],
        "status": status, "resolved_on": date(2026, 11, 28) if status == "resolved" else None,
        "severity": severity, "severity_rank": {"info": 1, "warning": 2, "critical": 3}[severity],
        "first_seen": date(2026, 11, 20), "last_seen": date(2026, 11, 27), "affected_mx_hosts": [f"mx2.{domain}"],
        "affected_ips": ["192.0.2.25"], "affected_sending_ips": ["203.0.113.5"], "affected_reporters": ["google.com"],
        "sessions_affected": sessions, "peak_failure_rate": 0.42,
        "diagnosis": "The certificate of mx2 expired on 2026-11-19.", "fix": "Renew the certificate and reload the MTA.",
        "anomaly_count": 2, "data_through": date(2026, 11, 27),
    }


def publish_problems(data_dir: Path, rows: list[dict]) -> int:
    """Write detect.problems into the lake and record a passed build at that snapshot."""
    data_dir.mkdir(parents=True, exist_ok=True)
    con = open_warehouse(data_dir, read_only=False)
    try:
        con.execute("create schema if not exists detect")
        con.execute(PROBLEMS_DDL)
        for row in rows:
            con.execute(f"insert into detect.problems ({', '.join(row)}) values ({', '.join('?' * len(row))})",
                        list(row.values()))
    finally:
        con.close()
    return publish(data_dir)


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("certs")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    paths = {"ca": folder / "ca.pem", "cert": folder / "server.pem", "key": folder / "server.key"}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    server.private_key_pem.write_to_path(str(paths["key"]))
    server.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    for pem in server.cert_chain_pems[1:]:
        pem.write_to_path(str(paths["cert"]), append=True)
    return {k: str(v) for k, v in paths.items()}


@pytest.fixture(scope="module")
def smtp(tmp_path_factory, certs):
    out = tmp_path_factory.mktemp("mails")
    port = free_port()
    with loopback_tcp_service(smtp_server_command(port, str(out), certs["cert"], certs["key"], SMTP_USER, SMTP_PASSWORD), port):
        yield port, out


@pytest.fixture(scope="module")
def http(tmp_path_factory):
    out = tmp_path_factory.mktemp("http") / "requests.jsonl"
    port = free_port()
    assert port_is_free(port)
    with loopback_service(http_recorder_command(port, str(out)), f"http://127.0.0.1:{port}/healthz", timeout=30):
        yield port, out


def posts(http, prefix: str) -> list[dict]:
    _, out = http
    lines = out.read_text().splitlines() if out.exists() else []
    return [r for r in map(json.loads, lines) if r["path"].startswith(prefix)]


def mails(smtp, rcpt: str) -> list[dict]:
    _, out = smtp
    found = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    return [m for m in found if rcpt in m["rcpt_tos"]]


def write_config(data_dir: Path, text: str) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "alerts.toml").write_text(text)
    return data_dir / "alerts.toml"


def webhook(http, path: str, extra: str = "") -> str:
    return f'[[webhook]]\nname = "{path}"\nurl = "http://127.0.0.1:{http[0]}{path}"\nsecret = "{SECRET}"\n{extra}\n'


def mailer(smtp, certs, rcpt: str) -> str:
    return (f'[[smtp]]\nname = "mail-{rcpt}"\nhost = "127.0.0.1"\nport = {smtp[0]}\nusername = "{SMTP_USER}"\n'
            f'password_env = "TLSRPT_TEST_SMTP_PASSWORD"\nfrom = "tlsrpt@alerts.test"\nto = ["{rcpt}"]\n'
            f'cafile = "{certs["ca"]}"\n')


@pytest.fixture(autouse=True)
def smtp_password(monkeypatch):
    monkeypatch.setenv("TLSRPT_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.delenv("TLSRPT_ALERTS_CONFIG", raising=False)


def test_new_problem_one_signed_webhook_one_mail_then_nothing(tmp_path, http, smtp, certs):
    data = tmp_path / "data"
    write_config(data, webhook(http, "/new") + mailer(smtp, certs, "new@example.com"))
    publish_problems(data, [problem_row("p-new"), problem_row("p-info", severity="info")])
    result = run_alerts(Settings(data_dir=data))
    assert len(result.sent) == 2 and not result.failed
    (request,) = posts(http, "/new")
    headers = {k.lower(): v for k, v in request["headers"].items()}
    signed = headers["x-tlsrpt-timestamp"].encode() + b"." + request["body"].encode()
    expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-tlsrpt-signature"], expected)
    assert abs(int(headers["x-tlsrpt-timestamp"]) - datetime.now().timestamp()) < 60
    payload = json.loads(request["body"])
    assert payload["event"] == "opened" and payload["problem"]["problem_id"] == "p-new"
    (mail,) = mails(smtp, "new@example.com")
    assert mail["tls"]
    message = message_from_string(mail["data"], policy=policy.default)
    assert message["Subject"] == "[TLS-RPT critical] New problem: Expired certificate on mx2.example.com"
    text = message.get_content()
    for needle in ("mx2.example.com", "192.0.2.25", "google.com", "2026-11-20", "120 sessions affected",
                   "Renew the certificate", "expired on 2026-11-19", "TO your domains"):
        assert needle in text, needle
    again = run_alerts(Settings(data_dir=data))
    assert again.outcomes == [] and len(posts(http, "/new")) == 1 and len(mails(smtp, "new@example.com")) == 1
    log = (data / "alerts" / "sent.jsonl").read_text().splitlines()
    assert len(log) == 2


def test_resolved_message_when_the_problem_resolves(tmp_path, http, smtp, certs):
    data = tmp_path / "data"
    write_config(data, webhook(http, "/resolve") + mailer(smtp, certs, "resolve@example.com"))
    publish_problems(data, [problem_row("p-res")])
    run_alerts(Settings(data_dir=data))
    publish_problems(data, [problem_row("p-res", status="resolved")])
    result = run_alerts(Settings(data_dir=data))
    assert [o.event.event for o in result.sent] == ["resolved", "resolved"]
    assert [json.loads(r["body"])["event"] for r in posts(http, "/resolve")] == ["opened", "resolved"]
    subjects = [message_from_string(m["data"], policy=policy.default)["Subject"] for m in mails(smtp, "resolve@example.com")]
    assert subjects[-1] == "[TLS-RPT] Resolved: Expired certificate on mx2.example.com"
    assert run_alerts(Settings(data_dir=data)).outcomes == []


def test_worsened_is_held_inside_the_window_then_sent(tmp_path, http):
    data = tmp_path / "data"
    write_config(data, "suppress_hours = 24\n" + webhook(http, "/worse"))
    publish_problems(data, [problem_row("p-w", severity="warning", sessions=100)])
    run_alerts(Settings(data_dir=data))
    publish_problems(data, [problem_row("p-w", severity="critical", sessions=500)])
    soon = run_alerts(Settings(data_dir=data), now=datetime.now(timezone.utc) + timedelta(hours=2))
    assert soon.outcomes == [] and len(soon.decision.held) == 1
    later = run_alerts(Settings(data_dir=data), now=datetime.now(timezone.utc) + timedelta(hours=25))
    assert [o.event.event for o in later.sent] == ["worsened"]
    events = [json.loads(r["body"]) for r in posts(http, "/worse")]
    assert [e["event"] for e in events] == ["opened", "worsened"]
    assert "severity warning -> critical" in events[1]["reason"] and "100 -> 500" in events[1]["reason"]


def test_routing_by_domain(tmp_path, http):
    data = tmp_path / "data"
    write_config(data, webhook(http, "/route-com", 'domains = ["example.com"]')
                 + webhook(http, "/route-org", 'domains = ["*.example.org"]'))
    publish_problems(data, [problem_row("p-com", "example.com"), problem_row("p-org", "mail.example.org"),
                            problem_row("p-net", "example.net")])
    run_alerts(Settings(data_dir=data))
    assert [json.loads(r["body"])["problem"]["problem_id"] for r in posts(http, "/route-com")] == ["p-com"]
    assert [json.loads(r["body"])["problem"]["problem_id"] for r in posts(http, "/route-org")] == ["p-org"]


def test_failing_channel_is_retried_and_the_good_one_not_resent(tmp_path, http):
    data = tmp_path / "data"
    write_config(data, webhook(http, "/good") + webhook(http, "/down"))
    failing = Path(str(http[1]) + ".failing")
    failing.write_text("/down\n")
    publish_problems(data, [problem_row("p-retry")])
    try:
        first = run_alerts(Settings(data_dir=data))
    finally:
        failing.unlink()
    assert [o.event.channel for o in first.sent] == ["/good"]
    assert [o.event.channel for o in first.failed] == ["/down"] and "HTTP 503" in first.failed[0].error
    second = run_alerts(Settings(data_dir=data))
    assert [o.event.channel for o in second.sent] == ["/down"] and not second.failed
    assert [r["status"] for r in posts(http, "/down")] == [503, 200]
    down = [json.loads(r["body"])["event_id"] for r in posts(http, "/down")]
    assert down[0] == down[1]  # the retry carries the same event_id
    assert len(posts(http, "/good")) == 1
    assert run_alerts(Settings(data_dir=data)).outcomes == []


def tlsrpt(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})


def test_dry_run_prints_and_sends_nothing_then_cli_sends(tmp_path, http, smtp, certs):
    data = tmp_path / "data"
    write_config(data, webhook(http, "/dry") + mailer(smtp, certs, "dry@example.com"))
    publish_problems(data, [problem_row("p-dry")])
    dry = tlsrpt("alerts", "--dry-run", "--data-dir", str(data))
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("would send") == 2 and "Expired certificate on mx2.example.com" in dry.stdout
    assert posts(http, "/dry") == [] and mails(smtp, "dry@example.com") == []
    assert not (data / "alerts" / "state.json").exists()
    real = tlsrpt("alerts", "--data-dir", str(data))
    assert real.returncode == 0, real.stderr
    assert "2 sent, 0 failed" in real.stdout and len(posts(http, "/dry")) == 1 and len(mails(smtp, "dry@example.com")) == 1


def test_cli_failing_channel_exits_1_with_one_line(tmp_path):
    data = tmp_path / "data"
    dead = free_port()  # nothing listens there
    write_config(data, f'[[webhook]]\nurl = "http://127.0.0.1:{dead}/x"\nsecret = "s"\n')
    publish_problems(data, [problem_row("p-dead")])
    result = tlsrpt("alerts", "--data-dir", str(data))
    assert result.returncode == 1 and "retried on the next run" in result.stderr and "Traceback" not in result.stderr


def test_apprise_json_url_is_received(tmp_path, http):
    data = tmp_path / "data"
    write_config(data, f'[[apprise]]\nurls = ["json://127.0.0.1:{http[0]}/apprise"]\n')
    publish_problems(data, [problem_row("p-apprise")])
    result = run_alerts(Settings(data_dir=data))
    assert len(result.sent) == 1, result.failed
    (request,) = posts(http, "/apprise")
    body = json.loads(request["body"])
    assert body["title"].startswith("[TLS-RPT critical] New problem") and "Renew the certificate" in body["message"]


def test_nothing_to_read_says_why(tmp_path, http):
    data = tmp_path / "data"
    write_config(data, webhook(http, "/empty"))
    assert "no warehouse yet" in run_alerts(Settings(data_dir=data)).reason
    con = open_warehouse(data, read_only=False)
    con.execute("create table t (x int)")
    con.close()
    publish(data)
    assert "no detect.problems table" in run_alerts(Settings(data_dir=data)).reason
    assert "no alerts config" in run_alerts(Settings(data_dir=tmp_path / "other")).reason
    assert posts(http, "/empty") == []


def test_dagster_sensor_sends_once(tmp_path, http):
    data = tmp_path / "data"
    write_config(data, webhook(http, "/sensor"))
    publish_problems(data, [problem_row("p-sensor")])
    with dg.build_sensor_context(cursor=None, resources={"warehouse": WarehouseResource(data_dir=str(data), workers=1)}) as context:
        first = alert_sensor(context)
        assert isinstance(first, dg.SkipReason) and "1 alert(s) sent" in first.skip_message
        second = alert_sensor(context)
        assert "no new snapshot" in second.skip_message
        publish_problems(data, [problem_row("p-sensor")])  # new snapshot, same problem: evaluated, nothing sent
        third = alert_sensor(context)
        assert "0 alert(s) sent" in third.skip_message
        assert len(posts(http, "/sensor")) == 1


def test_dagster_sensor_retries_a_failed_channel_on_the_next_tick(tmp_path, http):
    data = tmp_path / "data"
    write_config(data, webhook(http, "/sensor-down"))
    publish_problems(data, [problem_row("p-sensor-retry")])
    with dg.build_sensor_context(cursor=None, resources={"warehouse": WarehouseResource(data_dir=str(data), workers=1)}) as context:
        failing = Path(str(http[1]) + ".failing")
        failing.write_text("/sensor-down\n")
        try:
            assert "1 failed" in alert_sensor(context).skip_message
        finally:
            failing.unlink()
        assert "1 alert(s) sent" in alert_sensor(context).skip_message  # same snapshot, tried again
        assert "no new snapshot" in alert_sensor(context).skip_message
        assert [r["status"] for r in posts(http, "/sensor-down")] == [503, 200]


def test_pipeline_run_then_sensor_alerts_each_new_problem_once(tmp_path, http, smtp, certs):
    """The whole path: scenario reports in the inbox, `tlsrpt run` (the Dagster job) builds
    detect.problems and records a passed build, the sensor sends one webhook and one mail per new
    problem; a second run with nothing new sends nothing."""
    from pipeline.generate import write_corpus

    data = tmp_path / "data"
    write_corpus(tmp_path / "corpus", seed=1, scenarios=("all",), formats=("files",))
    (data / "inbox").mkdir(parents=True)
    (tmp_path / "corpus" / "files").rename(data / "inbox" / "files")
    write_config(data, webhook(http, "/e2e") + mailer(smtp, certs, "e2e@example.com"))
    first = tlsrpt("run", "--data-dir", str(data))
    assert first.returncode == 0, first.stderr
    con = open_warehouse(data)
    try:
        # Problems that opened and resolved before anyone was told are history, not news.
        expected = {pid for (pid,) in con.execute(
            "select problem_id from detect.problems where severity_rank >= 2 and status = 'open'").fetchall()}
    finally:
        con.close()
    assert len(expected) >= 3  # the open scenarios: expired certificate, MX migration, silent reporter
    with dg.build_sensor_context(cursor=None, resources={"warehouse": WarehouseResource(data_dir=str(data), workers=1)}) as context:
        assert f"{2 * len(expected)} alert(s) sent, 0 failed" in alert_sensor(context).skip_message  # 2 channels
        hooks = posts(http, "/e2e")
        assert sorted(json.loads(h["body"])["problem"]["problem_id"] for h in hooks) == sorted(expected)
        assert {json.loads(h["body"])["event"] for h in hooks} == {"opened"}
        assert len(mails(smtp, "e2e@example.com")) == len(expected)

        again = tlsrpt("run", "--data-dir", str(data))  # nothing new in the inbox
        assert again.returncode == 0, again.stderr
        second = alert_sensor(context).skip_message
        assert "no new snapshot" in second or "0 alert(s) sent" in second, second
        assert len(posts(http, "/e2e")) == len(expected) and len(mails(smtp, "e2e@example.com")) == len(expected)
