"""A real PostgreSQL server on 127.0.0.1 for the tests of a DuckLake catalog in PostgreSQL.

Debian's `postgresql` package (scripts/test.sh installs it): `initdb` makes a throw-away cluster
under the temp dir, `pg_ctl` starts it on a free loopback port (no Unix socket in /run, no
system cluster), and it is stopped by the postmaster's pid. PostgreSQL refuses to run as root,
so as root every server command runs as the package's `postgres` user (`runuser`). Password
authentication, also on loopback: the DSN the tests use is the shape a deployment uses.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.services import free_port

SUPERUSER = "tlsrpt"


@dataclass(frozen=True)
class Postgres:
    root: Path
    port: int
    pid: int
    password: str
    bin_dir: Path

    def libpq(self, dbname: str) -> str:
        """A libpq connection string, the form `ATTACH 'ducklake:postgres:<this>'` takes."""
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} password={self.password} dbname={dbname}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its libpq connection string."""
        subprocess.run([str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, name],
                       check=True, capture_output=True, timeout=30, env={**os.environ, "PGPASSWORD": self.password})
        return self.libpq(name)


def bin_dir() -> Path | None:
    """The newest installed server's binaries (/usr/lib/postgresql/<major>/bin), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def running() -> Iterator[Postgres]:
    """Start a cluster (skip with the reason when PostgreSQL cannot run here), stop it at the end."""
    binaries = bin_dir()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (scripts/test.sh installs Debian's postgresql)")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("PostgreSQL cannot run as root and runuser is missing")
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("PostgreSQL cannot run as root and there is no user postgres (Debian's package makes it)")
    root = Path(tempfile.mkdtemp(prefix="tlsrpt-postgres-"))
    root.chmod(0o755)  # the server user must enter it
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    password = secrets.token_hex(16)
    (root / "pwfile").write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        shutil.chown(root / "pwfile", "postgres")
    port = free_port()
    pid = None
    try:
        made = subprocess.run(_as_server_user([
            str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER, "--pwfile", str(root / "pwfile"),
            "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C",
        ]), capture_output=True, text=True, timeout=120)
        if made.returncode != 0:
            pytest.fail(f"initdb failed: {made.stderr[-1500:]}")
        options = f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off -c max_connections=50"
        started = subprocess.run(_as_server_user([
            str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start",
        ]), capture_output=True, text=True, timeout=90)
        if (data / "postmaster.pid").exists():
            pid = int((data / "postmaster.pid").read_text().split()[0])
        if started.returncode != 0:
            pytest.fail(f"PostgreSQL did not start: {started.stdout[-500:]} {log.read_text()[-1500:] if log.exists() else ''}")
        yield Postgres(root=root, port=port, pid=pid, password=password, bin_dir=binaries)
    finally:
        if pid is not None:
            stop(pid)
        shutil.rmtree(root, ignore_errors=True)


def stop(pid: int) -> None:
    """Fast shutdown (SIGINT: roll back sessions, then exit), KILL after 5 s; done when the
    postmaster is gone or a zombie (pg_ctl detached it, so it is not our child to wait for)."""
    for sig, grace in ((signal.SIGINT, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not alive(pid):
                return
            time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
