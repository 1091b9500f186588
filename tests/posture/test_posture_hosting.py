"""`tlsrpt serve --mta-sts-dir`: the receiver hosts policy files, and our own checker accepts them."""

from __future__ import annotations

import sys

import pytest

from pipeline.posture.config import ProbeConfig
from pipeline.posture.hosting import check_folder, policy_for
from pipeline.posture.policy_fetch import check_policy
from tests.posture.fixtures import GOOD_POLICY
from tests.services import free_port, loopback_tcp_service


@pytest.fixture
def policy_dir(tmp_path):
    folder = tmp_path / "mta-sts"
    folder.mkdir()
    (folder / "good.example.test.txt").write_bytes(GOOD_POLICY)
    (tmp_path / "secret.txt").write_text("not a policy")
    return folder


@pytest.mark.parametrize("host, served", [
    ("mta-sts.good.example.test", True),
    ("mta-sts.good.example.test:8460", True),
    ("MTA-STS.Good.Example.Test", True),
    ("mta-sts.other.example.test", False),
    ("good.example.test", False),
    ("mta-sts.../secret", False),
    ("[::1]", False),
])
def test_host_header_maps_only_to_policy_files(policy_dir, host, served):
    assert policy_for(policy_dir, host) == (GOOD_POLICY if served else None)


def test_start_up_names_a_broken_policy_file(policy_dir):
    (policy_dir / "bad.example.test.txt").write_text("version: STSv1\nmode: strict\nmax_age: 1\n")
    assert check_folder(policy_dir) == ["bad.example.test.txt: mode must be enforce, testing or none (got 'strict')"]


def test_served_policy_passes_the_checker(policy_dir, pki, tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "pipeline", "serve", "--data-dir", str(tmp_path / "data"), "--port", str(port),
               "--cert", pki["valid"], "--key", pki["valid"], "--mta-sts-dir", str(policy_dir)]
    with loopback_tcp_service(command, port):
        config = ProbeConfig(connect_address="127.0.0.1", https_port=port, ca_file=pki["ca"], timeout=5, deadline=5)
        result, policy = check_policy("good.example.test", config)
        missing, _ = check_policy("redirect.example.test", config)  # a domain without a file here
    assert (result.verdict, result.reason) == ("ok", "valid"), result.detail
    assert (missing.verdict, missing.reason) == ("fail", "http_status")
    assert policy["mode"] == "testing"


def test_sni_picks_the_certificate_per_name(policy_dir, pki, tmp_path):
    # The default certificate does not name mta-sts.good.example.test; the SNI folder's does.
    sni = tmp_path / "sni"
    sni.mkdir()
    (sni / "mta-sts.good.example.test.pem").write_text(open(pki["valid"]).read())
    port = free_port()
    command = [sys.executable, "-m", "pipeline", "serve", "--data-dir", str(tmp_path / "data"), "--port", str(port),
               "--cert", pki["wrongname"], "--key", pki["wrongname"], "--mta-sts-dir", str(policy_dir), "--sni-dir", str(sni)]
    with loopback_tcp_service(command, port):
        config = ProbeConfig(connect_address="127.0.0.1", https_port=port, ca_file=pki["ca"], timeout=5, deadline=5)
        named, _ = check_policy("good.example.test", config)
        other, _ = check_policy("redirect.example.test", config)  # no SNI file: the default certificate
    assert (named.verdict, named.reason) == ("ok", "valid"), named.detail
    assert other.reason == "certificate_name_mismatch"


def test_bad_sni_folder_is_one_line(pki, tmp_path):
    (tmp_path / "broken.pem").write_text("not a certificate")
    from typer.testing import CliRunner

    from pipeline.cli import app

    result = CliRunner().invoke(app, ["serve", "--data-dir", str(tmp_path / "data"), "--cert", pki["valid"], "--key", pki["valid"],
                                      "--sni-dir", str(tmp_path)])
    assert result.exit_code == 2 and "--sni-dir" in result.output
