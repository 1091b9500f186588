"""`tlsrpt setup` output, published on the loopback servers, passes `tlsrpt check`; and the
commands' refusals are one clear line."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests import dns_server
from tests.conftest import open_warehouse
from tests.posture import fixtures

runner = CliRunner()


def loopback_options(nsd, policy_host, smtp, pki) -> list[str]:
    return ["--dns-server", nsd.server, "--connect", "127.0.0.1", "--https-port", str(policy_host.port),
            "--smtp-port", str(smtp["valid"]), "--ca-file", pki["ca"]]


@pytest.fixture
def published(nsd, policy_host, pki, tmp_path):
    """Run `tlsrpt setup`, then serve what it printed: its records in a second NSD, its file on the policy host."""
    result = runner.invoke(app, ["setup", "setup.example.test", "--rua", "mailto:tlsrpt@example.test",
                                 "--dns-server", nsd.server, "--policy-file", str(tmp_path / "mta-sts.txt")])
    assert result.exit_code == 0, result.output
    records = [line for line in result.output.splitlines() if " IN TXT " in line]
    assert len(records) == 2
    server = dns_server.start({}, fixtures.zone_lines(pki["valid.cert"]) + records)
    saved = policy_host.answers["mta-sts.setup.example.test"]
    policy_host.answers["mta-sts.setup.example.test"] = (200, {"Content-Type": "text/plain"}, (tmp_path / "mta-sts.txt").read_bytes())
    yield server, result.output
    policy_host.answers["mta-sts.setup.example.test"] = saved
    dns_server.stop(server)


def test_setup_output_validates_with_our_checker(published, policy_host, smtp, pki, tmp_path):
    server, printed = published
    assert "mode: testing" in printed and "mx: mx.good.example.test" in printed and "mx: backup.example.test" in printed
    result = runner.invoke(app, ["check", "setup.example.test", "--no-save", "--json", *loopback_options(server, policy_host, smtp, pki)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    verdicts = {(r["check"], r["target"]): r["verdict"] for r in rows}
    assert verdicts[("tlsrpt_txt", "_smtp._tls.setup.example.test")] == "ok"
    assert verdicts[("sts_txt", "_mta-sts.setup.example.test")] == "ok"
    assert verdicts[("sts_policy", "https://mta-sts.setup.example.test/.well-known/mta-sts.txt")] == "ok"
    assert verdicts[("mx_coverage", "mx.good.example.test")] == verdicts[("mx_coverage", "backup.example.test")] == "ok"


def test_check_saves_history_and_fails_on_a_broken_domain(nsd, policy_host, smtp, pki, tmp_path):
    result = runner.invoke(app, ["check", "multi.example.test", "--data-dir", str(tmp_path), *loopback_options(nsd, policy_host, smtp, pki)])
    assert result.exit_code == 1
    assert re.search(r"fail\s+tlsrpt_txt", result.output)

    con = open_warehouse(tmp_path)
    assert ("tlsrpt_txt", "multiple_records") in con.execute("select check_name, reason from posture_checks").fetchall()


@pytest.mark.parametrize("args, message", [
    (["setup", "example.test", "--rua", "tlsrpt@example.test"], "neither mailto: nor https:"),
    (["setup", "not a domain", "--rua", "mailto:a@example.test"], "not a domain name"),
    (["check", "bad..name", "--no-save"], "not a domain name"),
])
def test_refusals_are_one_line(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and message in result.output


def test_bad_setting_is_one_line(monkeypatch):
    monkeypatch.setenv("TLSRPT_POSTURE_MAX_DOMAINS", "lots")
    result = runner.invoke(app, ["check", "good.example.test", "--no-save"])
    assert result.exit_code == 2 and "TLSRPT_POSTURE_MAX_DOMAINS='lots' is not a number" in result.output
