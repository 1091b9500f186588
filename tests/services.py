"""Real services the tests start on 127.0.0.1 and stop by pid (TERM, then KILL after 5 s)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
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
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                pytest.fail(f"{command[3:5]} exited early: {process.stdout.read().decode(errors='replace')[-2000:]}")
            try:
                urllib.request.urlopen(health_url, timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{health_url} did not answer within {timeout:g} s")
                time.sleep(0.2)
        yield process
    finally:
        stop_process(process)
