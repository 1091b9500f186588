"""Real services the tests start on 127.0.0.1 and stop by pid (TERM, then KILL after 5 s)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from typing import Iterator

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_process(process: subprocess.Popen) -> None:
    """TERM the process group, KILL it after 5 s (a started server is always its own group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def loopback_service(command: list[str], health_url: str, timeout: float = 60) -> Iterator[subprocess.Popen]:
    assert health_url.startswith("http://127.0.0.1:"), "tests only ever talk to loopback"
    with _started(command, lambda: urllib.request.urlopen(health_url, timeout=1), health_url, timeout) as process:
        yield process


@contextmanager
def _started(command: list[str], probe, what: str, timeout: float) -> Iterator[subprocess.Popen]:
    """Start `command` in its own process group, wait until `probe()` stops raising OSError, stop by pid."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                pytest.fail(f"{command[1:5]} exited early: {process.stdout.read().decode(errors='replace')[-2000:]}")
            try:
                probe()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{what} did not answer within {timeout:g} s")
                time.sleep(0.1)
        yield process
    finally:
        stop_process(process)


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextmanager
def loopback_tcp_service(command: list[str], port: int, timeout: float = 30) -> Iterator[subprocess.Popen]:
    """Start a server that is not HTTP (SMTP...) on 127.0.0.1:port; ready once it accepts a connection."""
    if not port_is_free(port):
        pytest.fail(f"127.0.0.1:{port} is taken: a stale server would answer in our place")
    with _started(command, lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close(),
                  f"127.0.0.1:{port}", timeout) as process:
        yield process


def smtp_server_command(port: int, out_dir: str, cert: str, key: str, user: str, password: str) -> list[str]:
    """aiosmtpd on 127.0.0.1 with STARTTLS required and AUTH only after it; each accepted mail is
    written to out_dir as <n>.json (envelope + raw message)."""
    return [sys.executable, __file__, "smtp", str(port), out_dir, cert, key, user, password]


def http_recorder_command(port: int, out_file: str) -> list[str]:
    """http.server on 127.0.0.1 appending each POST (path, headers, body) as a JSON line to out_file.
    GET /healthz answers 200. A POST whose path starts with a line of `<out_file>.failing` gets 503."""
    return [sys.executable, __file__, "http", str(port), out_file]


def _run_smtp(port: int, out_dir: str, cert: str, key: str, user: str, password: str) -> None:
    import json
    import ssl
    import threading

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    class Store:
        count = 0

        async def handle_DATA(self, server, session, envelope):
            Store.count += 1
            record = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                      "tls": session.ssl is not None, "data": envelope.content.decode("utf-8", "replace")}
            path = os.path.join(out_dir, f"{Store.count:04d}.json")
            with open(path + ".tmp", "w") as handle:
                json.dump(record, handle)
            os.replace(path + ".tmp", path)
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller = Controller(Store(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            authenticator=authenticator, auth_require_tls=True, auth_required=True)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


def _run_http(port: int, out_file: str) -> None:
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            failing = out_file + ".failing"
            prefixes = open(failing).read().split() if os.path.exists(failing) else []
            status = 503 if any(self.path.startswith(p) for p in prefixes) else 200
            with open(out_file, "a") as handle:
                handle.write(json.dumps({"path": self.path, "status": status, "headers": dict(self.headers),
                                         "body": body.decode("utf-8", "replace")}) + "\n")
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):
            pass

    import threading

    server = ThreadingHTTPServer(("127.0.0.1", port), Recorder)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


if __name__ == "__main__":  # the servers above, started by the tests as subprocesses
    if sys.argv[1] == "smtp":
        _run_smtp(int(sys.argv[2]), *sys.argv[3:8])
    elif sys.argv[1] == "http":
        _run_http(int(sys.argv[2]), sys.argv[3])
