"""A whole run: every check for a domain, the per-run cap, bad names and surprises as results."""

from __future__ import annotations

from pipeline.posture import run as posture_run
from pipeline.posture.run import check_domains, worst


def test_good_domain_passes_every_check(probe_config):
    result = check_domains(["good.example.test"], probe_config())
    by_check = {r.check: r for r in result.results}
    assert set(by_check) == {"tlsrpt_txt", "sts_txt", "sts_policy", "mx", "mx_coverage", "starttls", "mx_certificate", "tlsa"}
    # Every check but TLSA (no validating resolver on loopback: no AD bit) is green.
    assert {c: r.verdict for c, r in by_check.items() if r.verdict != "ok"} == {"tlsa": "warn"}


def test_cap_and_duplicates(probe_config):
    result = check_domains(["Good.Example.Test.", "good.example.test", "nosts.example.test", "multi.example.test"],
                           probe_config(max_domains=2))
    assert {r.domain for r in result.results} == {"good.example.test", "nosts.example.test"}
    assert result.skipped == ["multi.example.test"]


def test_bad_name_is_a_result():
    (result,) = check_domains(["not a domain"], posture_run.ProbeConfig(min_interval=0)).results
    assert (result.verdict, result.reason) == ("error", "bad_domain_name")


def test_a_crash_in_one_domain_does_not_stop_the_run(probe_config, monkeypatch):
    real = posture_run.check_domain

    def flaky(domain, config, probes):
        if domain.startswith("multi"):
            raise RuntimeError("surprise")
        return real(domain, config, probes)

    monkeypatch.setattr(posture_run, "check_domain", flaky)
    result = check_domains(["multi.example.test", "good.example.test"], probe_config())
    assert [r.reason for r in result.results if r.domain == "multi.example.test"] == ["check_crashed"]
    assert worst([r for r in result.results if r.domain == "good.example.test"]) == "warn"


def test_no_sts_record_means_no_policy_fetch_and_no_coverage(probe_config):
    results = {r.check: r for r in check_domains(["nosts.example.test"], probe_config()).results}
    assert (results["sts_policy"].verdict, results["sts_policy"].reason) == ("warn", "not_published")
    assert "mx_coverage" not in results and results["starttls"].verdict == "ok"


def test_hosts_on_private_addresses_are_not_dialled(probe_config):
    from pipeline.posture.addresses import not_public
    from pipeline.posture.config import ProbeConfig

    assert "not a public address" in not_public("localhost", 25, ProbeConfig())
    assert not_public("localhost", 25, ProbeConfig(allow_private=True)) == ""
    assert not_public("localhost", 25, probe_config()) == ""  # tests name the address to dial


def test_private_policy_host_and_mx_are_recorded_not_probed(monkeypatch):
    # A reported domain whose hosts point into our own network: recorded, never dialled.
    import socket

    from pipeline.posture import addresses
    from pipeline.posture.config import ProbeConfig
    from pipeline.posture.policy_fetch import check_policy
    from pipeline.posture.starttls import probe_mx, starttls_results

    monkeypatch.setattr(addresses.socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, 1, 6, "", ("10.1.2.3", 443))])
    result, _ = check_policy("internal.example", ProbeConfig())
    assert (result.verdict, result.reason) == ("error", "private_address")
    config = ProbeConfig()
    (starttls,) = starttls_results("internal.example", "mx.internal.example", probe_mx("mx.internal.example", config), config)
    assert (starttls.verdict, starttls.reason) == ("error", "private_address")


def test_a_shared_mx_is_probed_once_per_run(probe_config, monkeypatch):
    from pipeline.posture import starttls

    dialled = []
    real = starttls.probe_mx
    monkeypatch.setattr(posture_run, "probe_mx", lambda host, config: dialled.append(host) or real(host, config))
    result = check_domains(["good.example.test", "multi.example.test"], probe_config())
    assert dialled == ["mx.good.example.test"]
    assert [r.domain for r in result.results if r.check == "mx_certificate"] == ["good.example.test", "multi.example.test"]
