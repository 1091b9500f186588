"""Time a whole command as a child process: wall seconds and the CPU seconds of its process tree.

On a shared machine the CPU time moves far less than the wall time, which also counts waiting for
a core; the benchmark pages give both.
"""

from __future__ import annotations

import os
import resource
import subprocess
import time
from pathlib import Path


def timed(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall s, user + system s of the command and every child it waited for); stops on failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{command[:3]} failed: {result.stdout[-1500:]} {result.stderr[-1500:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
