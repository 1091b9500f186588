"""DNSSEC on loopback: the test zone signed with ldns (ldnsutils), and unbound validating it
(stub to our NSD, the zone's KSK as trust anchor), so answers carry a real AD bit.
Skips when unbound or ldns-signzone is missing (scripts/test.sh installs them)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.dns_server import ZONE
from tests.services import free_port, loopback_tcp_service

TOOLS = ("ldns-keygen", "ldns-signzone", "unbound")


def missing_tools() -> list[str]:
    return [t for t in TOOLS if not shutil.which(t) and not Path(f"/usr/sbin/{t}").exists()]


def signer(keys_dir: Path):
    """A `sign` hook for tests.dns_server.start: a KSK and a ZSK, the zone signed; the KSK stays
    in `keys_dir/anchor` for the validator."""
    def sign(zone: Path) -> Path:
        def keygen(*flags: str) -> str:
            made = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", *flags, ZONE], cwd=keys_dir,
                                  check=True, capture_output=True, text=True).stdout.strip()
            return str(keys_dir / made)
        ksk, zsk = keygen("-k"), keygen()
        subprocess.run(["ldns-signzone", "-f", str(zone) + ".signed", str(zone), zsk, ksk], cwd=keys_dir, check=True, capture_output=True)
        shutil.copy(ksk + ".key", keys_dir / "anchor")
        return Path(str(zone) + ".signed")
    return sign


@dataclass
class Validator:
    port: int

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"


def unbound_config(root: Path, port: int, nsd_port: int) -> str:
    return f"""server:
    interface: 127.0.0.1@{port}
    port: {port}
    do-ip6: no
    username: ""
    chroot: ""
    directory: "{root}"
    pidfile: "{root}/unbound.pid"
    use-syslog: no
    logfile: "{root}/unbound.log"
    num-threads: 1
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    local-zone: "test." nodefault
    module-config: "validator iterator"
    trust-anchor-file: "{root}/anchor"
remote-control:
    control-enable: no
stub-zone:
    name: "{ZONE}"
    stub-addr: 127.0.0.1@{nsd_port}
"""


def start_validator(keys_dir: Path, nsd_port: int):
    """A context manager: unbound on 127.0.0.1, ready once it resolves the signed zone's NS."""
    port = free_port()
    (keys_dir / "unbound.conf").write_text(unbound_config(keys_dir, port, nsd_port))
    subprocess.run(["unbound-checkconf", str(keys_dir / "unbound.conf")], check=True, capture_output=True)
    return port, loopback_tcp_service([shutil.which("unbound") or "/usr/sbin/unbound", "-d", "-c", str(keys_dir / "unbound.conf")], port)


def new_keys_dir() -> Path:
    if missing_tools():
        pytest.skip(f"DNSSEC tests need {', '.join(missing_tools())} (scripts/test.sh installs unbound and ldnsutils)")
    return Path(tempfile.mkdtemp(prefix="tlsrpt-dnssec-"))
