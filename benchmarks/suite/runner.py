"""One run of the suite: the figures kept in <out>/suite-<mode>.json, the phases in order (the
corpora first when none are kept), the page rewritten after each phase. A partial run (`--only`)
keeps the full run's settings and is listed on the page as a re-run."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import ingest_vs_parsedmarc as base  # stdlib only at import
from benchmarks.suite import REPO, log
from benchmarks.suite.ingest_phases import phase_cli, phase_corpora, phase_ingest
from benchmarks.suite.measure import Run, measure
from benchmarks.suite.pages_phase import phase_pages
from benchmarks.suite.profiling import phase_profile
from benchmarks.suite.report.page import render
from benchmarks.suite.warehouse_phases import (
    phase_dashboard,
    phase_incremental,
    phase_marts,
    phase_rebuild,
    phase_startup,
)

PARSEDMARC_VERSION = base.PARSEDMARC_VERSION
GIB = 1024 * 1024  # in kB
PHASES = ("corpora", "ingest", "cli", "incremental", "marts", "dashboard", "profile", "rebuild")
# `startup` is part of `incremental` (alone with --only startup); `pages` needs Chromium: only asked for
EXTRA_PHASES = ("startup", "pages")
RUN_PHASE = {"corpora": phase_corpora, "ingest": phase_ingest, "cli": phase_cli, "incremental": phase_incremental,
             "marts": phase_marts, "dashboard": phase_dashboard, "profile": phase_profile, "rebuild": phase_rebuild,
             "startup": phase_startup, "pages": phase_pages}


class Suite:
    """One run: its options, the kept figures (`state`), where it writes, and what every phase uses
    (the ingest command measured, waiting for a quiet machine, the repeats per size)."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.out = args.out.absolute()
        self.mode = "quick" if args.quick else "full"
        self.state_file = self.out / f"suite-{self.mode}.json"
        self.work = self.out / "suite"  # kept warehouses and scratch data dirs
        self.tlsrpt = REPO / ".venv" / "bin" / "tlsrpt"
        self.py = REPO / ".venv" / "bin" / "python"
        self.env = {k: v for k, v in os.environ.items() if k not in ("TLSRPT_DATA_DIR", "TLSRPT_WORKERS")}
        self.state: dict = {"sizes": {}, "phases": {}}
        if self.state_file.exists() and (args.only or args.render_only):
            self.state = json.loads(self.state_file.read_text())
        self.sizes = args.sizes
        self.largest = max(self.sizes)
        # the sizes the incremental phase builds on: ~100k and the largest (issue 17 asks both)
        self.incremental_sizes = sorted({n for n in self.sizes if n == 100_000} | {self.largest})

    def save(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(self.state, indent=1, default=str))
        text, svg = render(self.state, self.args)
        self.args.results.parent.mkdir(parents=True, exist_ok=True)
        self.args.results.write_text(text)
        if svg:
            self.args.chart.write_text(svg)
        log(f"wrote {base.rel(str(self.args.results))}")

    def quiet(self) -> None:
        if self.args.max_wait_quiet > 0:
            base.wait_quiet(self.args.max_wait_quiet)

    def repeats(self, n: int) -> int:
        return self.args.repeat if n < 1_000_000 else self.args.repeat_large

    def ours(self, data_dir: Path, inputs: list[Path], workers: int | None = None,
             options: tuple[str, ...] = (), sample_memory: bool = True) -> tuple[Run, dict]:
        cmd = [str(self.tlsrpt), "ingest", *options] + (["--workers", str(workers)] if workers else []) + \
              ["--data-dir", str(data_dir), *map(str, inputs)]
        self.quiet()
        r, stdout = measure(cmd, env=self.env, check=False, sample_memory=sample_memory)
        if r.error:
            log(f"FAILED: {' '.join(cmd)}\n  {r.error}")
        m = base._OURS_LINE.search(stdout)
        if not m:
            raise RuntimeError(f"unexpected `tlsrpt ingest` output:\n{stdout}\n{r.error}")
        inputs_n, secs, loaded, dup, quar = m.groups()
        r.ok, r.failed, r.inner = int(loaded), int(dup) + int(quar), float(secs)
        return r, {"inputs": int(inputs_n), "loaded": int(loaded), "duplicates": int(dup), "quarantined": int(quar)}

    def machine(self) -> None:
        vers = subprocess.run([str(self.py), "-c", "import platform, duckdb, polars; "
                               "print(platform.python_version(), duckdb.__version__, polars.__version__)"],
                              capture_output=True, text=True, check=True).stdout.split()
        pd_ver = subprocess.run([self.state["pd_py"], "-c", "import platform; print(platform.python_version())"],
                                capture_output=True, text=True).stdout.strip() if self.state.get("pd_py") else "?"
        mem = 0
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1])
        self.state["machine"] = {
            "cpu": base.cpu_model(), "cores": os.cpu_count(), "ram_gib": round(mem / GIB, 1),
            "os": f"{platform.system()} {platform.release()}", "python": vers[0], "duckdb": vers[1],
            "polars": vers[2], "parsedmarc": PARSEDMARC_VERSION, "parsedmarc_python": pd_ver,
            "git": base.git_state(), "loadavg_start": os.getloadavg(),
        }

    def main(self) -> None:
        if self.args.render_only:
            self.save()
            return
        phases = self.args.only or [p for p in PHASES if p not in self.args.skip]
        if "corpora" not in phases and not self.state["phases"].get("corpora"):
            phases = ["corpora", *phases]
        self.work.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        command = " ".join(["bash scripts/bench.sh", *sys.argv[1:]])
        if self.args.only:  # a partial re-run: keep the full run's settings, note the re-run
            self.state.setdefault("reruns", []).append(
                {"command": command, "phases": phases, "sizes": self.sizes, "git": base.git_state(),
                 "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")})
        else:
            self.state["started"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            self.state["command"] = command
            self.state["mode"] = self.mode
            self.state["sizes_asked"] = self.sizes
            self.state["repeat"], self.state["repeat_large"] = self.args.repeat, self.args.repeat_large
            self.state["dashboard_repeat"] = self.args.dashboard_repeat
            self.state["max_wait_quiet"] = self.args.max_wait_quiet
        log(f"suite ({self.mode}): sizes {self.sizes}, phases {phases}")
        for phase in phases:
            if phase == "corpora" or "machine" not in self.state:
                if phase == "corpora":
                    phase_corpora(self)
                self.machine()
            if phase != "corpora":
                t0 = time.perf_counter()
                RUN_PHASE[phase](self)
                if not self.args.only:
                    self.state.setdefault("phase_seconds", {})[phase] = round(time.perf_counter() - t0, 1)
            else:
                self.state.setdefault("phase_seconds", {})["corpora"] = round(time.perf_counter() - started, 1)
        if self.args.only:
            self.state["reruns"][-1]["seconds"] = round(time.perf_counter() - started, 1)
            self.state["reruns"][-1]["loadavg_end"] = os.getloadavg()
        else:
            self.state["machine"]["loadavg_end"] = os.getloadavg()
            self.state["finished"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            self.state["total_seconds"] = round(time.perf_counter() - started, 1)
        self.save()
        log(f"suite done in {time.perf_counter() - started:,.0f} s")
