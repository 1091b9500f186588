"""The `profile` phase: cProfile of `tlsrpt ingest --workers 1` (one process does everything) and
its summary in µs per report: by step of the ingest, by where the code lives, the top functions."""

from __future__ import annotations

import pstats
import re
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import ingest_vs_parsedmarc as base  # stdlib only at import
from benchmarks.suite import REPO, log
from benchmarks.suite.corpora import ensure_mbox
from benchmarks.suite.measure import measure

if TYPE_CHECKING:
    from benchmarks.suite.runner import Suite


def phase_profile(suite: Suite) -> None:
    """cProfile of `tlsrpt ingest --workers 1` (one process does everything) on the files at
    100k, and, with --profile-mbox N, on the mbox of N reports."""
    n = max(x for x in suite.sizes if x <= 100_000)
    s = suite.state["sizes"][str(n)]
    corpus = Path(s["corpus"])
    jobs = [("profile", n, corpus / "files")]
    if suite.args.profile_mbox:
        m = suite.args.profile_mbox
        mbox_dir, _ = ensure_mbox(suite.out, m, suite.args.seed, suite.tlsrpt)
        jobs.append(("profile_mbox", m, mbox_dir / "mbox" / "reports.mbox"))
    for key, size, source in jobs:
        # warm the page cache: later phases write GBs, which may have pushed these files out
        base.warm_cache([str(p) for p in Path(source).rglob("*") if p.is_file()] if Path(source).is_dir()
                        else [str(source)])
        d = suite.work / "profile-run"
        shutil.rmtree(d, ignore_errors=True)
        prof = suite.work / f"ingest-workers1-{key}-{size}.prof"
        cmd = [str(suite.py), "-m", "cProfile", "-o", str(prof), "-m", "pipeline", "ingest", "--workers", "1",
               "--data-dir", str(d), str(source)]
        suite.quiet()
        r, stdout = measure(cmd, env=suite.env, cwd=REPO)
        shutil.rmtree(d, ignore_errors=True)
        plain, _ = suite.ours(suite.work / "profile-plain", [source], workers=1)
        shutil.rmtree(suite.work / "profile-plain", ignore_errors=True)
        suite.state[key] = {"size": size, "wall_profiled": r.wall, "wall_plain_workers1": plain.wall,
                           "cpu_plain_workers1": plain.cpu, "foreign": max(r.foreign, plain.foreign),
                           "prof": str(prof), "command": " ".join(cmd).replace(str(d), "<fresh dir>"),
                           **summarise_profile(prof, size)}
        log(f"{key} at {size:,}: {r.wall:.1f} s profiled, {plain.wall:.1f} s plain (--workers 1)")
    suite.state["phases"]["profile"] = True
    suite.save()


def summarise_profile(prof: Path, n: int) -> dict:
    """Top functions by own time, and own time grouped by where the code lives, in µs per report."""
    st = pstats.Stats(str(prof))
    total = st.total_tt
    funcs = []
    groups: dict[str, float] = {}
    for (filename, line, name), (cc, nc, tt, ct, callers) in st.stats.items():
        funcs.append((tt, ct, nc, filename, line, name))
        groups[_group(filename, name)] = groups.get(_group(filename, name), 0.0) + tt
    funcs.sort(reverse=True)
    top = [{"func": f"{_short(f)}:{line}({name})", "own_us": tt / n * 1e6, "cum_us": ct / n * 1e6, "calls": nc}
           for tt, ct, nc, f, line, name in funcs[:20]]
    cum = sorted(((ct, f, line, name) for tt, ct, nc, f, line, name in funcs
                  if "pipeline/" in f or "app/" in f), reverse=True)
    cum_top = [{"func": f"{_short(f)}:{line}({name})", "cum_us": ct / n * 1e6} for ct, f, line, name in cum[:20]]
    steps = []
    for label, fname, func in PROFILE_STEPS:
        ct = sum(v[3] for (f, _, name), v in st.stats.items() if f.endswith(fname) and name == func)
        if ct / n * 1e6 >= 0.05:
            steps.append({"step": label, "func": f"{fname}:{func}", "cum_us": ct / n * 1e6})
    rest = total - sum(x["cum_us"] for x in steps) * n / 1e6
    steps.append({"step": "everything else: interpreter start-up, imports, CLI, walking the folder",
                  "func": "", "cum_us": rest / n * 1e6})
    return {"total_us": total / n * 1e6, "top_own": top, "top_cum": cum_top, "steps": steps,
            "groups": sorted(({"group": g, "own_us": t / n * 1e6} for g, t in groups.items()),
                             key=lambda x: -x["own_us"])[:20]}


PROFILE_STEPS = (  # disjoint steps of one `tlsrpt ingest --workers 1` run, by the function that does each
    ("replay unfinished packs", "pipeline/ingest.py", "replay_pending"),
    ("read, sniff, decode, parse, validate, flatten, hash (per input)", "pipeline/parse/worker.py", "process_chunk"),
    ("decide a batch, write its pack + fsync", "pipeline/store/batch.py", "prepare_batch"),
    ("insert a batch: DuckDB inserts, commit", "pipeline/store/batch.py", "write_batch"),
    ("rebuild the SQL models in the lake (marts) and record the build's snapshot", "pipeline/transform/sql_models.py",
     "refresh_all"),
)


def _short(filename: str) -> str:
    filename = filename.replace(str(REPO) + "/", "")
    m = re.search(r"site-packages/(.*)", filename)
    return m.group(1) if m else filename.replace(sys.base_prefix + "/lib/python3.11/", "stdlib/")


def _group(filename: str, name: str) -> str:
    f = _short(filename)
    if f.startswith("pipeline/") or f.startswith("assets/") or f.startswith("app/"):
        return f
    if f == "~":  # C builtins: name them
        m = re.search(r"method '(\w+)' of '([\w.]+)'", name)
        if m:
            return f"builtin {m.group(2)}.{m.group(1)}"
        return f"builtin {name}"
    top = f.split("/")[0]
    if top == "stdlib":
        return "stdlib/" + f.split("/")[1]
    return top
