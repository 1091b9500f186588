"""One command measured as a whole process tree: wall, CPU, ru_maxrss of the largest process, the
summed RSS and PSS (sampled from /proc) and the CPU other processes used meanwhile."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import ingest_vs_parsedmarc as base  # stdlib only at import


def _rss_pss_kb(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
                    break
    except (OSError, ValueError):
        pass
    return rss, pss


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_and_parent(pid: int) -> tuple[float, int] | None:
    """(user + system CPU seconds so far, parent pid) of a process, from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()  # after the command name, which may hold blanks
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK, int(fields[1])


class TreeSampler(threading.Thread):
    """Peaks of the summed RSS and summed PSS over a process and all its descendants, and each
    process's CPU as last seen (a process that exits between two samples loses its last 50 ms)."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = self.max_procs = 0
        self.cpu: dict[int, tuple[float, int]] = {}  # pid -> (CPU seconds, parent pid)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            pids = base._tree(self.pid)
            vals = [_rss_pss_kb(p) for p in pids]
            self.peak_rss = max(self.peak_rss, sum(v[0] for v in vals))
            self.peak_pss = max(self.peak_pss, sum(v[1] for v in vals))
            self.max_procs = max(self.max_procs, len(pids))
            for p in pids:
                seen = _cpu_and_parent(p)
                if seen is not None:
                    self.cpu[p] = seen
            self.stop.wait(self.interval)

    def cpu_split(self) -> tuple[float, float]:
        """(CPU s of the measured command's own process, CPU s of its descendants): the command
        is the sampled root's child (the root is the /usr/bin/time wrapper)."""
        own = sum(cpu for cpu, parent in self.cpu.values() if parent == self.pid)
        wrapper = self.cpu.get(self.pid, (0.0, 0))[0]
        return own, max(0.0, sum(cpu for cpu, _ in self.cpu.values()) - own - wrapper)


@dataclass
class Run:
    wall: float
    cpu: float  # user + sys of the whole tree
    max_rss_kb: int  # ru_maxrss of the largest single process
    tree_rss_kb: int  # peak of the summed RSS over the tree (counts shared pages once per process)
    tree_pss_kb: int  # peak of the summed PSS over the tree
    foreign: float  # mean cores used by other processes meanwhile
    procs: int = 0
    cpu_own: float = 0.0  # sampled runs: CPU of the command's own process (ours: the committing one)
    cpu_descendants: float = 0.0  # sampled runs: CPU of the processes it started (ours: the parsers)
    ok: int | None = None
    failed: int = 0
    inner: float | None = None
    out_bytes: int = 0
    error: str = ""  # the command failed: the end of its output


def measure(cmd: list[str], env: dict | None = None, stdout_path: Path | None = None,
            cwd: Path | None = None, check: bool = True, sample_memory: bool = True) -> tuple[Run, str]:
    """Run cmd under /usr/bin/time -v (the wrapper is excluded from the sampled tree's RSS by
    sampling from its child), sample the tree unless `sample_memory` is off, return the Run and
    its stdout. Sampling reads every process's page tables and costs a two-process ingest ~8 %
    of its time: the ingest phase times unsampled runs and samples one extra run per row."""
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
        time_file = tf.name
    use_time = base.TIME_BIN.exists()
    wrapped = [str(base.TIME_BIN), "-v", "-o", time_file, *cmd] if use_time else \
        [sys.executable, "-c", base.RUSAGE_WRAPPER, *cmd]
    out_fh = open(stdout_path, "w") if stdout_path else tempfile.TemporaryFile("w+")
    err_fh = tempfile.TemporaryFile("w+")
    busy0, self0 = base.busy_seconds(), time.process_time()
    started = time.perf_counter()
    proc = subprocess.Popen(wrapped, stdout=out_fh, stderr=err_fh, env=env, cwd=cwd, text=True)
    sampler = TreeSampler(proc.pid)
    if sample_memory:
        sampler.start()
    proc.wait()
    wall = time.perf_counter() - started
    if sample_memory:
        sampler.stop.set()
        sampler.join()
    busy, own = base.busy_seconds() - busy0, time.process_time() - self0
    err_fh.seek(0)
    stderr = err_fh.read()
    err_fh.close()
    stdout = ""
    if not stdout_path:
        out_fh.seek(0)
        stdout = out_fh.read()
    out_fh.close()
    time_text = Path(time_file).read_text() if use_time else stderr
    os.unlink(time_file)
    error = ""
    if proc.returncode != 0:
        error = f"exit {proc.returncode}: " + " ".join((stdout[-600:] + " " + stderr[-600:]).split())
    if proc.returncode != 0 and check:
        raise RuntimeError(f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n"
                           f"{stdout[-2000:]}\n{stderr[-4000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_text)
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", time_text))
    foreign = max(0.0, busy - cpu - own) / wall if wall else 0.0
    # The sampled tree includes the small /usr/bin/time wrapper (~2 MB): negligible.
    own_cpu, descendants_cpu = sampler.cpu_split() if sample_memory else (0.0, 0.0)
    return Run(wall, cpu, int(m.group(1)) if m else 0, sampler.peak_rss, sampler.peak_pss, foreign,
               sampler.max_procs - 1, cpu_own=own_cpu, cpu_descendants=descendants_cpu, error=error), stdout
