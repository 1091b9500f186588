"""A real Dovecot on 127.0.0.1 for the IMAP tests (recipe: ../shared/TESTBED.md section 1):
foreground master stopped by pid, passwd-file users, Maildir, IMAP + STARTTLS and IMAPS with a
throw-away CA. Skips when Dovecot is not installed (scripts/test.sh installs it)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services import free_port, stop_process

USER, PASSWORD = "tlsrpt@example.test", "s3cret"


@dataclass
class Dovecot:
    root: Path
    imap_port: int
    imaps_port: int
    ca_file: Path
    process: subprocess.Popen


def _certificates(folder: Path) -> Path:
    run = lambda *args: subprocess.run(args, check=True, capture_output=True, cwd=folder)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=tlsrpt test CA")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf")
    return folder / "ca.pem"


def _config(root: Path, imap_port: int, imaps_port: int) -> str:
    return f"""instance_name = tlsrpt-test
base_dir = {root}/run
state_dir = {root}/state
protocols = imap
listen = 127.0.0.1
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{root}/certs/server.crt
ssl_key = <{root}/certs/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = home={root}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def start() -> Dovecot:
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not Path(binary).exists():
        pytest.skip("Dovecot is not installed (scripts/test.sh installs dovecot-imapd)")
    # Under /tmp with o+x on every parent: Dovecot's auth and mail processes run as other users.
    root = Path(tempfile.mkdtemp(prefix="tlsrpt-dovecot-", dir="/tmp"))
    os.chmod(root, 0o755)
    for sub in ("run", "state", "mail", "certs"):
        (root / sub).mkdir()
    ca_file = _certificates(root / "certs")
    for path in (root / "certs").iterdir():
        os.chmod(path, 0o644)
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    shutil.chown(root / "mail", "nobody", "nogroup")
    imap_port, imaps_port = free_port(), free_port()
    (root / "dovecot.conf").write_text(_config(root, imap_port, imaps_port))
    process = subprocess.Popen([binary, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", imap_port), timeout=1) as probe:
                if probe.recv(100).startswith(b"* OK"):
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            stop(Dovecot(root, imap_port, imaps_port, ca_file, process))
            pytest.fail(f"Dovecot did not start: {process.stdout.read().decode(errors='replace')} {log[-2000:]}")
        time.sleep(0.1)
    return Dovecot(root, imap_port, imaps_port, ca_file, process)


def stop(server: Dovecot) -> None:
    stop_process(server.process)
    shutil.rmtree(server.root, ignore_errors=True)
