"""What pinning DuckDB 1.5.5 (for its extension wheels) costs against 1.5.6: ingest, rebuild, dashboard.

    .venv/bin/python benchmarks/duckdb_release_cost.py [--releases 1.5.5,1.5.6] [--domains 4] [--days 30] [--repeat 3]

Two throw-away venvs under `<out>/release-venvs/` (`uv venv` + `uv pip install` from
requirements.lock; the 1.5.6 one with `duckdb` and `duckdb-cli` swapped and the 1.5.5-only
extension wheels left out), the project installed into both (`--no-deps -e .`). One generated
corpus; then, interleaved (1.5.5, 1.5.6, 1.5.5, ...), per run a fresh data dir:
`tlsrpt ingest` of the corpus (the lake: core tables, models) and `tlsrpt rebuild` of that data
dir, each a whole process: wall time and the CPU time of its process tree (benchmarks/process_time.py).
Then the dashboard's queries: every query function of app/data.py (found as the suite finds them)
against each release's own lake (the snapshot of its last passed build), in that release's venv, wall and CPU time per call
(the median of 5 calls after a warm-up), 3 rounds interleaved. Last, the 1.5.5 `tlsrpt status`
opens a warehouse 1.5.6 wrote (an existing data dir survives the pin move). Results: benchmarks/results/duckdb_release_cost.md.

Since the warehouse is a DuckLake every command needs the DuckLake extension, whose wheels exist
here for 1.5.5 only (a 1.5.5 extension refuses to load in 1.5.6): each release's venv is first
asked to open a lake, and the script stops in one line naming a release that cannot. The kept
results were measured before the lake, on the DuckDB file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from process_time import timed  # benchmarks/, beside this script

REPO = Path(__file__).resolve().parent.parent
PINNED = "1.5.5"  # the only release whose extension wheels (DuckLake among them) install here
RELEASES = (PINNED, "1.5.6")  # the default pair: the pin and the release after it
ENV = {"TLSRPT_WORKERS": "2"}
EXTENSION_WHEELS = ("duckdb-extension-",)


def lock_for(release: str, out: Path) -> Path:
    """requirements.lock with duckdb and duckdb-cli at `release` (no extension wheels unless 1.5.5)."""
    lines = []
    skipping = False
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if not line.startswith(" "):
            name = line.split("==")[0]
            skipping = release != PINNED and name.startswith(EXTENSION_WHEELS)
            if name in ("duckdb", "duckdb-cli"):
                line = f"{name}=={release}"
        if not skipping:
            lines.append(line)
    path = out / f"requirements-duckdb-{release}.lock"
    path.write_text("\n".join(lines) + "\n")
    return path


def make_venv(release: str, out: Path) -> Path:
    venv = out / "release-venvs" / release
    python = venv / "bin" / "python"
    if not python.exists():
        uv = REPO / ".venv" / "bin" / "uv"
        subprocess.run([str(uv), "venv", "-q", "-p", sys.executable, str(venv)], check=True)
        subprocess.run([str(uv), "pip", "install", "-q", "-p", str(python), "--compile-bytecode",
                        "-r", str(lock_for(release, out))], check=True)
        subprocess.run([str(uv), "pip", "install", "-q", "-p", str(python), "--no-deps", "-e", str(REPO)], check=True)
    found = subprocess.run([str(python), "-c", "import duckdb; print(duckdb.__version__)"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert found == release, f"{venv}: duckdb {found}, expected {release}"
    return venv


def dashboard_worker(data_dir: str) -> None:
    """In the venv of one release: (wall, CPU) seconds, summed over the queries of the per-query
    medians of 5 calls. CPU is this process's (DuckDB's threads included)."""
    os.environ["TLSRPT_DATA_DIR"] = data_dir  # the raw-report query reads the landing zone of Settings()
    sys.path.insert(0, str(REPO))
    from benchmarks.suite.dashboard_worker import _dashboard_calls
    from pipeline import read

    calls, skipped, _ = _dashboard_calls(read.current_snapshot())
    if skipped:
        raise SystemExit(f"queries without arguments: {skipped}")
    wall = cpu = 0.0
    for _, thunk, _ in calls:
        thunk()  # warm-up
        runs = []
        for _ in range(5):
            begin, begin_cpu = time.perf_counter(), time.process_time()
            thunk()
            runs.append((time.perf_counter() - begin, time.process_time() - begin_cpu))
        wall += statistics.median(r[0] for r in runs)
        cpu += statistics.median(r[1] for r in runs)
    print(json.dumps({"queries": len(calls), "wall": wall, "cpu": cpu}))


LAKE_PROBE = ("import sys, tempfile; from pathlib import Path; from pipeline.settings import Settings; "
              "from pipeline.store.lake import open_lake; "
              "open_lake(Settings(data_dir=Path(tempfile.mkdtemp(dir=sys.argv[1])))).close()")


def cannot_open_lake(venv: Path, scratch: Path) -> str | None:
    """None when this release's venv opens a lake; else the last line of why not."""
    scratch.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", LAKE_PROBE, str(scratch)], capture_output=True,
                           text=True, cwd=REPO)
    if probe.returncode == 0:
        return None
    return (probe.stderr.strip().splitlines() or ["no output"])[-1]


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--releases", type=lambda t: tuple(t.split(",")), default=RELEASES,
                        help="two DuckDB releases, the pinned one first (default 1.5.5,1.5.6)")
    parser.add_argument("--domains", type=int, default=4)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "bench-out")
    parser.add_argument("--dashboard-worker", metavar="DATA_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dashboard_worker:
        dashboard_worker(args.dashboard_worker)
        return
    out = args.out.absolute()
    out.mkdir(parents=True, exist_ok=True)
    releases = args.releases
    venvs = {release: make_venv(release, out) for release in releases}
    for release in releases:
        why = cannot_open_lake(venvs[release], out / "release-data" / "probe")
        if why:
            raise SystemExit(f"DuckDB {release} cannot open the lake ({why}): the DuckLake extension is "
                             "installable here for 1.5.5 only; compare releases that have it (--releases)")
    pinned, other = releases
    corpus = out / f"corpus-domains{args.domains}-days{args.days}"
    if not corpus.exists():
        subprocess.run([str(venvs[pinned] / "bin" / "tlsrpt"), "generate", "--domains", str(args.domains),
                        "--days", str(args.days), "--seed", "1", str(corpus)], check=True, capture_output=True)
    reports = sum(1 for p in corpus.rglob("*") if p.is_file() and p.name != "ground_truth.json")

    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    loads = []
    for run in range(args.repeat):
        for release in releases:
            tlsrpt = str(venvs[release] / "bin" / "tlsrpt")
            data = out / "release-data" / f"{release}-{run}"
            shutil.rmtree(data, ignore_errors=True)
            loads.append(load_average())
            figures.setdefault((release, "ingest"), []).append(timed([tlsrpt, "ingest", "--data-dir", str(data), str(corpus)], env=ENV))
            figures.setdefault((release, "rebuild"), []).append(timed([tlsrpt, "rebuild", "--data-dir", str(data)], env=ENV))
            print(release, run, {k[1]: v[-1] for k, v in figures.items() if k[0] == release}, flush=True)

    dashboard: dict[str, list[dict]] = {}
    for _ in range(3):
        for release in releases:
            found = subprocess.run([str(venvs[release] / "bin" / "python"), __file__, "--dashboard-worker",
                                    str(out / "release-data" / f"{release}-0")], capture_output=True, text=True)
            if found.returncode != 0:
                raise SystemExit(f"dashboard queries failed on {release}: {found.stderr[-2000:]}")
            dashboard.setdefault(release, []).append(json.loads(found.stdout.strip().splitlines()[-1]))
            print(release, "dashboard", dashboard[release][-1], flush=True)

    # The pin move on an existing data dir: the pinned release reads what the other wrote.
    older = subprocess.run([str(venvs[pinned] / "bin" / "tlsrpt"), "status", "--data-dir",
                            str(out / "release-data" / f"{other}-0")], capture_output=True, text=True)
    compatible = "yes" if older.returncode == 0 else f"NO: {older.stderr.strip().splitlines()[-1:]}"

    lines = [
        f"# DuckDB {pinned} vs {other}: ingest, rebuild and dashboard queries", "",
        f"`benchmarks/duckdb_release_cost.py --domains {args.domains} --days {args.days} --repeat {args.repeat}`; "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, TLSRPT_WORKERS=2. The machine was **shared** with other sessions while measuring "
        f"(1-min load average before the runs: {min(loads):.1f}-{max(loads):.1f}), so single runs move by tens of percent.",
        "", f"Corpus: `tlsrpt generate --domains {args.domains} --days {args.days} --seed 1` ({reports} input files). "
        "Each run: a whole `tlsrpt` process, wall time and CPU time (user + system, parser processes "
        "included); runs interleaved between the two releases.", "",
        "| release | command | wall, runs (s) | wall median (s) | CPU, runs (s) | CPU median (s) |",
        "|---|---|---|---|---|---|",
    ]
    for (release, command), values in sorted(figures.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        walls, cpus = [v[0] for v in values], [v[1] for v in values]
        lines.append(f"| {release} | `tlsrpt {command}` | {', '.join(f'{v:.2f}' for v in walls)} | "
                     f"{statistics.median(walls):.2f} | {', '.join(f'{v:.2f}' for v in cpus)} | {statistics.median(cpus):.2f} |")
    for command in ("ingest", "rebuild"):
        ratios = [statistics.median([v[i] for v in figures[(pinned, command)]])
                  / statistics.median([v[i] for v in figures[(other, command)]]) for i in (0, 1)]
        lines.append(f"\n`{command}`: {pinned} / {other} = {ratios[0]:.2f} wall, {ratios[1]:.2f} CPU (medians).")
    lines += ["", f"Dashboard: the {dashboard[pinned][0]['queries']} query functions of app/data.py on each release's "
              "own snapshot of the same corpus, the per-query medians of 5 calls summed, in 3 interleaved rounds:", "",
              "| release | wall, rounds (ms) | wall median (ms) | CPU, rounds (ms) | CPU median (ms) |", "|---|---|---|---|---|"]
    for release in releases:
        walls = [1000 * r["wall"] for r in dashboard[release]]
        cpus = [1000 * r["cpu"] for r in dashboard[release]]
        lines.append(f"| {release} | {', '.join(f'{v:.0f}' for v in walls)} | {statistics.median(walls):.0f} | "
                     f"{', '.join(f'{v:.0f}' for v in cpus)} | {statistics.median(cpus):.0f} |")
    lines.append(f"\n{pinned}'s `tlsrpt status` opens a data dir written by {other}: {compatible}.")
    result = REPO / "benchmarks" / "results" / "duckdb_release_cost.md"
    result.write_text("\n".join(lines) + "\n")
    print(result.read_text())


if __name__ == "__main__":
    main()
