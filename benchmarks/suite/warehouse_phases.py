"""The phases on the largest warehouse the ingest phase kept: `incremental` (nothing new, and one
new day on top vs alone) with the fixed start-up costs, `marts` and `dashboard` (each timed inside
a worker process: marts_worker, dashboard_worker) and `rebuild`."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import ingest_vs_parsedmarc as base  # stdlib only at import
from benchmarks.suite import REPO, log
from benchmarks.suite.measure import measure

if TYPE_CHECKING:
    from benchmarks.suite.runner import Suite


def phase_incremental(suite: Suite) -> None:
    """Nothing new, and one new day on top vs alone, on each kept warehouse of suite.incremental_sizes;
    the largest one's figures are also `incremental` (the page's main table, the nothing-new target)."""
    by_size = suite.state.setdefault("incremental_by_size", {})
    for n in suite.incremental_sizes:
        by_size[str(n)] = _incremental_at(suite, n)
        suite.save()
    res = by_size[str(suite.largest)]
    startup(suite, res)
    suite.state["incremental"] = res
    suite.state["phases"]["incremental"] = True
    suite.save()


def _incremental_at(suite: Suite, n: int) -> dict:
    wh = Path(suite.state["sizes"][str(n)]["ingest"]["warehouse"])
    days = suite.state.get("days") or {str(suite.largest): suite.state["day_meta"]}
    day = Path(days[str(n)]["dir"])
    # At least 3 runs at every size: a run here is ~20 s at 1M, and the day on top / alone ratio is a
    # target whose runs spread by ~0.5 s at 1M (the day alone 6.00-6.57 s in one phase).
    reps = max(3, suite.args.repeat if n < 1_000_000 else suite.args.repeat_large)
    empty = suite.work / "empty-inbox"
    shutil.rmtree(empty, ignore_errors=True)
    empty.mkdir(parents=True)
    res: dict = {"size": n, "ingest_empty": [], "run_empty": [], "day_alone": [], "day_on_top": [],
                 "day_meta": days[str(n)]}
    base.warm_cache([str(p) for p in (day / "files").rglob("*.json.gz")])
    for i in range(reps):
        r, info = suite.ours(wh, [empty])
        res["ingest_empty"].append(asdict(r))
        log(f"nothing new, ingest (on {n:,}): {r.wall:.2f} s  {info}")
    for i in range(reps):
        suite.quiet()
        r, stdout = measure([str(suite.tlsrpt), "run", "--data-dir", str(wh)], env=suite.env, check=False)
        if r.error:
            log(f"FAILED: tlsrpt run\n  {r.error}")
        res["run_empty"].append(asdict(r))
        log(f"nothing new, run (on {n:,}): {r.wall:.2f} s")
    for i in range(reps):
        d = suite.work / f"day-alone-{i}"
        shutil.rmtree(d, ignore_errors=True)
        # Each timed run starts with the disk idle: the kernel writes a copy's 1.5 GB (at 1M) back
        # over the next half minute, which otherwise lands in whichever run comes next (the
        # later pairs of a phase ran up to 1.6x slower, the day on top more than the day alone).
        os.sync()
        r, info = suite.ours(d, [day / "files"])
        res["day_alone"].append(asdict(r))
        res["day_alone_info"] = info
        shutil.rmtree(d, ignore_errors=True)
        log(f"day alone: {r.wall:.2f} s {info}")
        d = suite.work / f"day-on-top-{i}"
        shutil.rmtree(d, ignore_errors=True)
        t0 = time.perf_counter()
        # a whole data dir (landing packs and the embedded lake): the lake's data path is taken from
        # the settings at attach, so the copy reads its own files, not the original's
        shutil.copytree(wh, d, symlinks=True)
        os.sync()  # the copy written out, as above (counted in copy_seconds, not in the run)
        copy_s = time.perf_counter() - t0
        r, info = suite.ours(d, [day / "files"])
        res["day_on_top"].append(asdict(r))
        res["day_on_top_info"] = info
        res["copy_seconds"] = copy_s
        shutil.rmtree(d, ignore_errors=True)
        log(f"day on top of {n:,}: {r.wall:.2f} s {info} (copy of the warehouse took {copy_s:.1f} s, not counted)")
    res["warehouse_bytes"] = base.du_bytes(wh)
    res["lake_bytes"] = base.du_bytes(wh / "lake")  # the catalog and the Parquet data files
    return res


def startup(suite: Suite, res: dict) -> None:
    """Fixed costs for reference: the CLI's start-up and loading the Dagster definitions."""
    for key, cmd in (("startup_cli", [str(suite.tlsrpt), "--help"]),
                     ("startup_dagster", [str(suite.py), "-c", "import assets.definitions"])):
        res[key] = []
        for _ in range(suite.args.repeat):
            suite.quiet()
            r, _ = measure(cmd, env=suite.env, cwd=REPO)
            res[key].append(asdict(r))
        log(f"{key}: {statistics.median(x['wall'] for x in res[key]):.2f} s")


def phase_startup(suite: Suite) -> None:
    startup(suite, suite.state.setdefault("incremental", {}))
    suite.state["phases"]["startup"] = True
    suite.save()


def phase_marts(suite: Suite) -> None:
    n = suite.largest
    wh = Path(suite.state["sizes"][str(n)]["ingest"]["warehouse"])
    scratch = suite.work / "marts"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(wh, scratch, symlinks=True)  # the models rebuilt in a copy of the whole data dir
    suite.quiet()
    r, stdout = measure([str(suite.py), "-m", "benchmarks.suite", "_marts", str(scratch), str(suite.args.repeat)],
                        env=suite.env, cwd=REPO)
    res = json.loads(stdout.strip().splitlines()[-1])
    res["size"] = n
    res["process"] = asdict(r)
    suite.state["marts"] = res
    shutil.rmtree(scratch, ignore_errors=True)
    log(f"marts at {n:,}: whole {statistics.median(res['whole']):.2f} s")
    suite.state["phases"]["marts"] = True
    suite.save()


def phase_dashboard(suite: Suite) -> None:
    out = {}
    for n in sorted({x for x in suite.sizes if x >= 100_000} | {suite.largest}):
        wh = suite.state["sizes"][str(n)]["ingest"]["warehouse"]
        suite.quiet()
        r, stdout = measure([str(suite.py), "-m", "benchmarks.suite", "_dashboard", wh,
                             str(suite.args.dashboard_repeat)], env=suite.env, cwd=REPO)
        res = json.loads(stdout.strip().splitlines()[-1])
        res["foreign"] = r.foreign
        if res.get("error"):
            log(f"dashboard at {n:,}: {res['error']}")
            suite.state.setdefault("notes", []).append(f"dashboard at {n:,}: {res['error']}")
            continue
        out[str(n)] = res
        worst = max(statistics.median(q["times"]) for q in res["queries"].values())
        log(f"dashboard at {n:,}: {len(res['queries'])} queries, slowest median {worst * 1000:.0f} ms")
    suite.state["dashboard"] = out
    suite.state["phases"]["dashboard"] = True
    suite.save()


def phase_rebuild(suite: Suite) -> None:
    n = suite.largest
    wh = Path(suite.state["sizes"][str(n)]["ingest"]["warehouse"])
    d = suite.work / "rebuild"
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(wh, d, symlinks=True)
    suite.quiet()
    r, stdout = measure([str(suite.tlsrpt), "rebuild", "--data-dir", str(d)], env=suite.env, check=False)
    m = base._OURS_LINE.search(stdout)
    if m:
        r.ok = int(m.group(3))
    shutil.rmtree(d, ignore_errors=True)
    suite.state["rebuild"] = {"size": n, "run": asdict(r), "lake": True}
    log(f"tlsrpt rebuild at {n:,}: {r.wall:.1f} s")
    suite.state["phases"]["rebuild"] = True
    suite.save()
