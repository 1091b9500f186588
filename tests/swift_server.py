"""A real S3-compatible object store on 127.0.0.1 for the tests of a lake whose data path is `s3://`.

Debian's OpenStack Swift (scripts/test.sh installs `swift swift-proxy swift-object
swift-account swift-container memcached`) with its `s3api` middleware: the proxy speaks the S3
API, tempauth holds one user (its S3 access key is `account:user`), memcached caches the auth
tokens. Everything lives in a throw-away folder: config, rings (one device, one replica) and the
stored objects. No service of the system is started or configured: each server reads only its
own config file (`swift_dir` points at the folder, not /etc/swift), runs in the foreground with
`workers = 0` (one process, so its pid is the one to stop), and is stopped by pid.
"""

from __future__ import annotations

import getpass
import secrets
import shutil
import subprocess
import tempfile
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.services import free_port, loopback_service, loopback_tcp_service

SERVERS = ("account", "container", "object")
PROGRAMS = ("swift-ring-builder", "swift-proxy-server", *(f"swift-{name}-server" for name in SERVERS), "memcached")
ACCOUNT, USER = "tlsrpt", "lake"
REGION = "us-east-1"


@dataclass(frozen=True)
class Swift:
    root: Path
    port: int  # the proxy: S3 API and /healthcheck
    key_id: str
    secret: str
    pids: tuple[int, ...]

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def create_bucket(self, name: str) -> str:
        """A new bucket (a Swift container) through Swift's own API; returns `s3://<name>/`."""
        auth = urllib.request.Request(f"http://{self.endpoint}/auth/v1.0",
                                      headers={"X-Auth-User": self.key_id, "X-Auth-Key": self.secret})
        with urllib.request.urlopen(auth, timeout=30) as answer:
            storage, token = answer.headers["X-Storage-Url"], answer.headers["X-Auth-Token"]
        made = urllib.request.Request(f"{storage}/{name}", method="PUT", headers={"X-Auth-Token": token})
        with urllib.request.urlopen(made, timeout=30):
            pass
        return f"s3://{name}/"

    def s3_settings(self) -> dict[str, object]:
        """The `Settings` fields of a lake whose data files are in this store (path-style URLs
        are the default with an endpoint, and what Swift answers)."""
        return {"s3_endpoint": self.endpoint, "s3_key_id": self.key_id, "s3_secret": self.secret,
                "s3_region": REGION, "s3_use_ssl": False}


def missing_programs() -> list[str]:
    return [name for name in PROGRAMS if shutil.which(name) is None]


@contextmanager
def running() -> Iterator[Swift]:
    """Start memcached, the three storage servers and the S3 proxy; skip with the reason when
    Swift is not installed; stop all by pid at the end and remove every file."""
    missing = missing_programs()
    if missing:
        pytest.skip(f"OpenStack Swift is not installed (missing {', '.join(missing)}; scripts/test.sh installs it)")
    root = Path(tempfile.mkdtemp(prefix="tlsrpt-swift-"))
    secret = secrets.token_hex(16)
    ports = {name: free_port() for name in (*SERVERS, "proxy", "memcached")}
    try:
        _write_config(root, ports, secret)
        with ExitStack() as servers:
            # memcached refuses to run as root unless told which user to become.
            cache = ["memcached", "-l", "127.0.0.1", "-p", str(ports["memcached"]), "-U", "0", "-m", "16",
                     "-u", getpass.getuser()]
            started = [servers.enter_context(loopback_tcp_service(cache, ports["memcached"]))]
            for name in SERVERS:
                command = [shutil.which(f"swift-{name}-server"), str(root / "etc" / f"{name}-server.conf")]
                started.append(servers.enter_context(loopback_tcp_service(command, ports[name], timeout=60)))
            proxy = [shutil.which("swift-proxy-server"), str(root / "etc" / "proxy-server.conf")]
            started.append(servers.enter_context(
                loopback_service(proxy, f"http://127.0.0.1:{ports['proxy']}/healthcheck", timeout=60)))
            yield Swift(root=root, port=ports["proxy"], key_id=f"{ACCOUNT}:{USER}", secret=secret,
                        pids=tuple(process.pid for process in started))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _write_config(root: Path, ports: dict[str, int], secret: str) -> None:
    etc, devices = root / "etc", root / "devices"
    etc.mkdir()
    (devices / "d1").mkdir(parents=True)
    (etc / "swift.conf").write_text(
        "[swift-hash]\nswift_hash_path_suffix = tlsrpt-test\nswift_hash_path_prefix = tlsrpt-test\n\n"
        "[storage-policy:0]\nname = Policy-0\ndefault = yes\n"
    )
    # Each server: loopback only, its own folders, no mount checks (the device is a plain folder),
    # one process, and the current user (the servers drop privileges to `user` when root).
    common = (f"[DEFAULT]\nbind_ip = 127.0.0.1\nswift_dir = {etc}\ndevices = {devices}\nmount_check = false\n"
              f"workers = 0\nuser = {getpass.getuser()}\nlog_level = WARNING\n")
    for name in SERVERS:
        (etc / f"{name}-server.conf").write_text(
            common + f"bind_port = {ports[name]}\n\n[pipeline:main]\npipeline = {name}-server\n\n"
            f"[app:{name}-server]\nuse = egg:swift#{name}\n\n[{name}-replicator]\n[{name}-auditor]\n"
        )
        builder = etc / f"{name}.builder"
        # Part power 6 (64 partitions), one replica, min_part_hours 1: one device needs no more.
        _ring(["create", "6", "1", "1"], builder)
        _ring(["add", "--region", "1", "--zone", "1", "--ip", "127.0.0.1", "--port", str(ports[name]),
               "--device", "d1", "--weight", "100"], builder)
        _ring(["rebalance"], builder)
    (etc / "proxy-server.conf").write_text(
        common + f"bind_port = {ports['proxy']}\n\n"
        "[pipeline:main]\n"
        # s3api before tempauth: it turns an S3 signature into a request tempauth checks.
        "pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth "
        "copy slo dlo proxy-logging proxy-server\n\n"
        "[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\n\n"
        f"[filter:tempauth]\nuse = egg:swift#tempauth\nuser_{ACCOUNT}_{USER} = {secret} .admin\n\n"
        f"[filter:s3api]\nuse = egg:swift#s3api\nlocation = {REGION}\n\n"
        f"[filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = 127.0.0.1:{ports['memcached']}\n\n"
        + "".join(f"[filter:{name}]\nuse = egg:swift#{egg}\n\n" for name, egg in (
            ("catch_errors", "catch_errors"), ("gatekeeper", "gatekeeper"), ("healthcheck", "healthcheck"),
            ("proxy-logging", "proxy_logging"), ("listing_formats", "listing_formats"), ("copy", "copy"),
            ("slo", "slo"), ("dlo", "dlo")))
    )


def _ring(arguments: list[str], builder: Path) -> None:
    made = subprocess.run(["swift-ring-builder", str(builder), *arguments], capture_output=True, text=True, timeout=60)
    if made.returncode not in (0, 1):  # 1: done with a warning (one device cannot spread replicas)
        pytest.fail(f"swift-ring-builder {arguments[0]} failed: {made.stdout[-800:]} {made.stderr[-800:]}")
