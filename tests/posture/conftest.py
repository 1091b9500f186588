"""Real loopback servers for the posture checks: NSD serving example.test, where each label is a
test domain (good, or broken in one way), an HTTPS policy host and SMTP servers, all signed by a
throw-away CA. Module `fixtures` builds the zone and the answers; this file starts and stops them."""

from __future__ import annotations

import datetime as dt

import pytest
import trustme

from pipeline.posture.config import ProbeConfig
from tests import dns_server
from tests.posture import fixtures
from tests.posture.servers import PolicyHost, smtp_server


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("posture-pki")
    ca = trustme.CA()
    now = dt.datetime.now(dt.timezone.utc)
    leaves = {
        "valid": ca.issue_cert(*fixtures.VALID_NAMES),
        "soon": ca.issue_cert(*fixtures.VALID_NAMES, not_after=now + dt.timedelta(days=5)),
        "expired": ca.issue_cert(*fixtures.VALID_NAMES, "mta-sts.expired.example.test",
                                 not_before=now - dt.timedelta(days=60), not_after=now - dt.timedelta(days=1)),
        "wrongname": ca.issue_cert("other.example.net"),
    }
    paths = {"ca": str(folder / "ca.pem")}
    ca.cert_pem.write_to_path(paths["ca"])
    for name, leaf in leaves.items():
        paths[name] = str(folder / f"{name}.pem")
        leaf.private_key_and_cert_chain_pem.write_to_path(paths[name])
        paths[f"{name}.cert"] = leaf.cert_chain_pems[0].bytes()
    return paths


@pytest.fixture(scope="session")
def nsd(pki):
    server = dns_server.start({}, fixtures.zone_lines(pki["valid.cert"]))
    yield server
    dns_server.stop(server)


@pytest.fixture(scope="session")
def policy_host(pki):
    host = PolicyHost(pki["valid"], {"mta-sts.expired.example.test": pki["expired"],
                                     "mta-sts.wrongname.example.test": pki["wrongname"]}, fixtures.policy_answers())
    yield host
    host.stop()


@pytest.fixture(scope="session")
def smtp(pki):
    servers = {name: smtp_server(pki[name]) for name in ("valid", "soon", "expired", "wrongname")}
    servers["plain"] = smtp_server(None)
    yield {name: s.port for name, s in servers.items()}
    for server in servers.values():
        server.stop()


@pytest.fixture
def probe_config(nsd, policy_host, smtp, pki):
    """A config pointing every probe at the loopback servers; `smtp=` picks the SMTP server."""
    def make(smtp_kind: str = "valid", **overrides) -> ProbeConfig:
        settings = dict(dns_server=nsd.server, dns_timeout=2, connect_address="127.0.0.1", https_port=policy_host.port,
                        smtp_port=smtp[smtp_kind], ca_file=pki["ca"], timeout=2, deadline=2, min_interval=0)
        return ProbeConfig(**settings | overrides)
    return make
