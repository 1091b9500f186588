"""`tlsrpt dashboard` as a service manager stops it: SIGTERM to the pid it was started as ends the
Streamlit server too, so nothing is left holding the port (issue 15, item 12)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.services import free_port


def test_sigterm_to_tlsrpt_dashboard_leaves_no_server_on_the_port(tmp_path: Path):
    port = free_port()
    command = [sys.executable, "-m", "pipeline", "dashboard", "--data-dir", str(tmp_path / "data"), "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(300):  # up to ~60 s for Streamlit to answer
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, "the dashboard exited before it answered"
                time.sleep(0.2)
        else:
            pytest.fail("the dashboard did not answer")
        os.kill(process.pid, signal.SIGTERM)  # the one pid a service manager knows, not the group
        assert process.wait(timeout=30) is not None
        # Nothing of the group is left: no orphaned Streamlit holding the port.
        alive = True
        for _ in range(50):
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                alive = False
                break
            time.sleep(0.2)
        assert not alive, "a process of the dashboard outlived SIGTERM"
        with socket.socket() as probe:  # nothing listens there any more (a bind could still meet TIME_WAIT)
            assert probe.connect_ex(("127.0.0.1", port)) != 0
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # only what this test started
        except ProcessLookupError:
            pass
        process.wait()
