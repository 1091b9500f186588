"""`tlsrpt serve` against slow and greedy clients and a full disk (issue 15, items 5 and 12).

Clients bind to other loopback addresses (127.0.0.2, ...: Linux routes all of 127/8 to lo), so
the per-address limit can be told apart from honest senders on 127.0.0.1. Every wait is bounded
by a socket timeout; nothing is timed."""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.fixtures.builders import valid_report
from tests.integration.test_https_receiver import post
from tests.services import free_port, loopback_service

HALF_HEAD = b"POST /tlsrpt HTTP/1.1\r\nHost: x\r\nContent-Type: application/tlsrpt+json\r\n"


def serve_command(data_dir: Path, port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", "serve", "--data-dir", str(data_dir), "--port", str(port),
            "--allow-domain", "example.com", *extra]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("guarded")
    port = free_port()
    # A small shared limit (20) that the slow clients below would exhaust on their own.
    # The head deadline (5 s) leaves a loaded machine ample time to open each test's connections
    # before the first of them is cut off, so the counts below are exact.
    command = serve_command(data_dir, port, "--max-connections", "20", "--client-connections", "4", "--header-timeout", "5")
    with loopback_service(command, f"http://127.0.0.1:{port}/healthz", timeout=30):
        yield port


def slow_client(port: int, source: str, payload: bytes = HALF_HEAD) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", port), timeout=15, source_address=(source, 0))
    if payload:
        client.sendall(payload)
    return client


def reply_of(client: socket.socket) -> bytes:
    try:
        return client.recv(200)
    except (ConnectionResetError, TimeoutError):
        return b""


def test_honest_posts_succeed_while_slow_clients_hold_more_than_the_shared_limit(guarded):
    port = guarded
    with ExitStack() as stack:
        # 60 trickling connections from 3 addresses: three times the shared limit (20) of this server.
        slow = [stack.enter_context(slow_client(port, f"127.0.1.{n % 3 + 1}")) for n in range(60)]
        statuses = [post(port, valid_report(f"honest-{n}"), "application/tlsrpt+json")[0] for n in range(10)]
        assert statuses == [201] * 10
        replies = [reply_of(client) for client in slow]
    # 4 per address were let in and cut off at the head deadline; the rest were refused at once
    # (503, or a reset when the refusal raced their half-sent head).
    assert sum(r.startswith(b"HTTP/1.1 408") for r in replies) == 12
    assert sum(r.startswith(b"HTTP/1.1 503") or r == b"" for r in replies) == 48


def test_a_connection_that_sends_nothing_is_closed(guarded):
    with slow_client(guarded, "127.0.2.1", b"") as client:
        assert reply_of(client).startswith(b"HTTP/1.1 408")


def test_one_address_cannot_hold_more_than_its_share(guarded):
    port = guarded
    with ExitStack() as stack:
        # Complete heads, no body yet: held by the 30 s body deadline, not cut by the head one.
        head = HALF_HEAD + b"Content-Length: 1000\r\n\r\n"
        held = [stack.enter_context(slow_client(port, "127.0.3.1", head)) for _ in range(4)]
        extra = stack.enter_context(slow_client(port, "127.0.3.1", b""))
        assert reply_of(extra).startswith(b"HTTP/1.1 503")
        assert post(port, valid_report("beside-a-greedy-client"), "application/tlsrpt+json")[0] == 201
        assert len(held) == 4


def test_full_disk_is_a_507_and_one_log_line(tmp_path: Path):
    """A real ENOSPC: the spool's temp file for this body is a symlink to /dev/full."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    data_dir, port = tmp_path / "data", free_port()
    body = gzip.compress(valid_report("disk-full"))
    name = f"{hashlib.sha256(body).hexdigest()}.report"
    spool = data_dir / "spool" / "https"
    with loopback_service(serve_command(data_dir, port), f"http://127.0.0.1:{port}/healthz", timeout=30) as process:
        os.symlink("/dev/full", spool / f".tmp-{name}-{process.pid}")
        status, answer = post(port, body)
        assert (status, answer["message"]) == (507, "the receiver's disk is full; retry later")
        assert not (spool / name).exists() and not list(spool.glob(".tmp-*"))  # the partial copy is given back
    output = process.stdout.read().decode(errors="replace")
    assert "Traceback" not in output
    assert [line.split(":", 1)[-1].strip() for line in output.splitlines() if "spool" in line and "could not" in line] == [
        "could not spool a report: No space left on device"]

