"""A real authoritative DNS server (NSD) on 127.0.0.1 serving DKIM keys for the tests (recipe:
../shared/TESTBED.md section 2). Skips when NSD is not installed (scripts/test.sh installs it)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import dns.resolver
import pytest

from tests.services import free_port, stop_process

ZONE = "example.test"


@dataclass
class Nsd:
    root: Path
    port: int
    process: subprocess.Popen

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"


def rsa_key(folder: Path, name: str) -> tuple[bytes, str]:
    """(private key PEM, public key base64 for a DKIM TXT record)."""
    private = folder / f"{name}.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(private), "2048"], check=True, capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", str(private), "-pubout", "-outform", "DER"], check=True, capture_output=True).stdout
    import base64

    return private.read_bytes(), base64.b64encode(der).decode()


def _txt(value: str) -> str:
    # TXT strings are at most 255 bytes: split the record into quoted chunks.
    return " ".join(f'"{value[i:i + 200]}"' for i in range(0, len(value), 200))


def start(records: dict[str, str], extra: list[str] = (), sign=None) -> Nsd:
    """`records`: owner name (relative to example.test) -> TXT value; `extra`: more zone lines;
    `sign(zone_path) -> served_path`: e.g. DNSSEC-sign the zone first (tests/posture/dnssec.py)."""
    binary = shutil.which("nsd") or "/usr/sbin/nsd"
    if not Path(binary).exists():
        pytest.skip("NSD is not installed (scripts/test.sh installs nsd)")
    root = Path(tempfile.mkdtemp(prefix="tlsrpt-nsd-"))
    port = free_port()
    lines = [f"$ORIGIN {ZONE}.", "$TTL 60",
             f"@ IN SOA ns.{ZONE}. admin.{ZONE}. 1 3600 600 86400 60", f"@ IN NS ns.{ZONE}.", "ns IN A 127.0.0.1"]
    lines += [f"{name} IN TXT {_txt(value)}" for name, value in records.items()] + list(extra)
    (root / "zone").write_text("\n".join(lines) + "\n")
    served = sign(root / "zone") if sign else root / "zone"
    (root / "nsd.conf").write_text(f"""server:
    ip-address: 127.0.0.1@{port}
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "{root}"
    database: ""
    pidfile: "{root}/nsd.pid"
    xfrdfile: "{root}/xfrd.state"
    zonelistfile: "{root}/zone.list"
    logfile: "{root}/nsd.log"
    server-count: 1
    hide-version: yes
remote-control:
    control-enable: no
zone:
    name: {ZONE}
    zonefile: "{served}"
""")
    process = subprocess.Popen([binary, "-d", "-c", str(root / "nsd.conf")], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port, resolver.lifetime = ["127.0.0.1"], port, 1
    deadline = time.monotonic() + 15
    while True:
        try:
            resolver.resolve(f"ns.{ZONE}", "A")
            break
        except Exception:  # noqa: BLE001 - not up yet
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "nsd.log").read_text() if (root / "nsd.log").exists() else ""
                stop(Nsd(root, port, process))
                pytest.fail(f"NSD did not start: {process.stdout.read().decode(errors='replace')} {log}")
            time.sleep(0.1)
    return Nsd(root, port, process)


def stop(server: Nsd) -> None:
    stop_process(server.process)
    shutil.rmtree(server.root, ignore_errors=True)
