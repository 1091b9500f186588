"""The benchmark page (docs/benchmarks.md and its chart) rendered from small hand-made states.

The suite keeps its figures in bench-out/suite-<mode>.json and renders the page from them alone;
a run takes 40 minutes, so the renderer is checked here on made-up figures shaped like the ones
the suite writes: a full run with every section and every re-run note; a quick-mode run at 100k
and 1M for the other branches (failed commands, notes, mixed and met targets, a missing row); and
no figures at all (`--render-only` on a fresh --out). Each page and chart must match
tests/fixtures/bench_page/ byte for byte. When the page's prose changes on purpose, rewrite the
expected files with `python tests/unit/test_bench_page.py --write` and read the diff.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script with --write
    sys.path.insert(0, str(ROOT))

from benchmarks.suite.report.page import render  # noqa: E402

EXPECTED = ROOT / "tests" / "fixtures" / "bench_page"
ROWS = ("ours_core", "ours_files", "ours_mbox", "parsedmarc", "floor1", "floor2")
# µs of wall per report, MiB of summed RSS, CPU s per wall s: made up, shaped like docs/benchmarks.md
PER_REPORT_US = {"ours_core": 64, "ours_files": 93, "ours_mbox": 236, "parsedmarc": 46, "floor1": 17, "floor2": 10}
TREE_MIB = {"ours_core": 976, "ours_files": 970, "ours_mbox": 989, "parsedmarc": 76, "floor1": 40, "floor2": 113}
CPU_PER_WALL = {"ours_core": 1.76, "ours_files": 1.6, "ours_mbox": 1.8, "parsedmarc": 0.97, "floor1": 0.96,
                "floor2": 1.78}


def run(wall: float, *, cpu: float | None = None, rss_mib: float = 100, foreign: float = 0.01, ok: int | None = 0,
        failed: int = 0, inner: float | None = None, out_bytes: int = 0, error: str = "") -> dict:
    """One measured process, as the suite records it (`Run` in benchmarks/suite/measure.py)."""
    return {"wall": wall, "cpu": wall if cpu is None else cpu, "max_rss_kb": int(rss_mib * 800),
            "tree_rss_kb": int(rss_mib * 1024), "tree_pss_kb": int(rss_mib * 900), "foreign": foreign,
            "procs": 2, "ok": ok, "failed": failed, "inner": inner, "out_bytes": out_bytes, "error": error}


def ingest_phase(n: int, repeats: int, growth: float, root: Path, *, rejected: int = 0,
                 error_row: str | None = None) -> dict:
    """The ingest phase of one size: every row `repeats` times, interleaved, plus its memory run.
    `growth` scales the per-report time (1.0 at 100k); the last run of each row is the quietest."""
    rows, memory = {}, {}
    for key in ROWS:
        wall = PER_REPORT_US[key] * growth * n / 1e6 + 0.15
        ok = n - rejected if key == "parsedmarc" else n
        runs = []
        for i in range(repeats):
            w = round(wall * (1.04 - 0.02 * i), 3)
            runs.append(run(w, cpu=round(w * CPU_PER_WALL[key], 2), rss_mib=TREE_MIB[key] * (0.9 + 0.02 * i),
                            foreign=round(0.12 - 0.05 * i, 2) if i < 2 else 0.0, ok=ok,
                            failed=rejected if key == "parsedmarc" else 0,
                            inner=round(w * 0.6, 2) if key.startswith("ours") else round(w * 0.9, 2),
                            out_bytes=n * 2460 if key.startswith("ours") else 0,
                            error="exit 1: disk full" if key == error_row and i == 0 else ""))
        rows[key] = runs
        memory[key] = run(round(wall * 1.08, 3), rss_mib=TREE_MIB[key] * (1 + n / 4e6), ok=ok)
        if key == "ours_core" and growth >= 1.0:  # the CPU by process, as sampled (not in every fixture)
            memory[key].update(cpu_own=round(memory[key]["cpu"] * 0.3, 2), cpu_descendants=round(memory[key]["cpu"] * 0.68, 2))
    corpus = f"{root}/bench-out/corpus-n{n}-seed1"
    extra = {"ours_core": {"inputs": n, "loaded": n, "duplicates": 0, "quarantined": 0},
             "ours_files": {"inputs": n, "loaded": n, "duplicates": 0, "quarantined": 0},
             "ours_mbox": {"inputs": n, "loaded": n - 3, "duplicates": 1, "quarantined": 2}}
    if rejected:
        extra["parsedmarc"] = {"failures": [["Missing required policy field: 'policy-domain'", rejected - 2],
                                            ["Not a valid report", 2]]}
    venv = f"{root}/.venv/bin"
    return {"rows": rows, "memory": memory, "extra": extra, "warehouse": f"{root}/bench-out/suite/warehouse-{n}",
            "loadavg_after": [1.5, 1.4, 1.3],
            "commands": {
                "ours_core": f"{venv}/tlsrpt ingest --no-models --data-dir <fresh dir> {corpus}/files",
                "ours_files": f"{venv}/tlsrpt ingest --data-dir <fresh dir> {corpus}/files",
                "ours_mbox": f"{venv}/tlsrpt ingest --data-dir <fresh dir> {corpus}-mbox/mbox/reports.mbox",
                "parsedmarc": f"{root}/bench-out/parsedmarc-11.1.0-venv/bin/python "
                              f"{root}/benchmarks/ingest_vs_parsedmarc.py _parsedmarc {corpus}/files.txt",
                "floor1": f"{venv}/python {root}/benchmarks/ingest_vs_parsedmarc.py _floor {corpus}/files.txt 1",
                "floor2": f"{venv}/python {root}/benchmarks/ingest_vs_parsedmarc.py _floor {corpus}/files.txt 2"}}


def size_entry(n: int, repeats: int, growth: float, root: Path, *, same: bool | None = True, **kw) -> dict:
    corpus = f"{root}/bench-out/corpus-n{n}-seed1"
    entry = {
        "corpus": corpus,
        "files_meta": {"reports": n, "seed": 1, "generator": "abc123", "files": n, "gz_bytes": n * 331,
                       "json_bytes": n * 583, "generate_seconds": 0.0,
                       "command": f"{root}/.venv/bin/tlsrpt generate --reports {n} --formats files --seed 1 {corpus}"},
        "mbox_meta": {"reports": n, "seed": 1, "generator": "abc123", "path": f"{corpus}-mbox/mbox/reports.mbox",
                      "bytes": n * 1595, "generate_seconds": 0.0,
                      "command": f"{root}/.venv/bin/tlsrpt generate --reports {n} --formats mbox --seed 1 "
                                 f"{corpus}-mbox"},
        "ingest": ingest_phase(n, repeats, growth, root, **kw),
    }
    if same is not None:
        entry["same_reports"] = same
    return entry


def profile(n: int, wall: float, root: Path, prefix: str = "") -> dict:
    steps = [("replay unfinished packs", "pipeline/ingest.py:replay_pending", 0.4),
             ("read, sniff, decode, parse, validate, flatten, hash (per input)",
              "pipeline/parse/worker.py:process_chunk", 120.5),
             ("decide a batch, write its pack + fsync", "pipeline/store/batch.py:prepare_batch", 14.2),
             ("insert a batch: DuckDB inserts, commit", "pipeline/store/batch.py:write_batch", 22.8),
             ("Parquet export", "pipeline/store/parquet_export.py:export_dirty", 6.1),
             ("rebuild the SQL models (marts)", "pipeline/transform/sql_models.py:refresh_all", 30.3),
             ("everything else: interpreter start-up, imports, CLI, walking the folder", "", 11.7)]
    return {
        "size": n, "wall_profiled": round(wall * 2.3, 2), "wall_plain_workers1": wall,
        "cpu_plain_workers1": wall * 0.97,
        "foreign": 0.02, "prof": f"{root}/bench-out/suite/{prefix}ingest.prof",
        "command": f"{root}/.venv/bin/python -m cProfile -o x.prof -m pipeline ingest --workers 1 --data-dir "
                   f"<fresh dir> {root}/bench-out/corpus-n{n}-seed1/files",
        "total_us": 206.0,
        "steps": [{"step": s, "func": f, "cum_us": us} for s, f, us in steps],
        "groups": [{"group": g, "own_us": round(40.0 / (i + 1), 2)}
                   for i, g in enumerate(["pipeline/parse/fastpath.py", "builtin orjson.loads", "stdlib/gzip.py",
                                          "pipeline/parse/flatten.py", "duckdb", "pyarrow", "stdlib/email",
                                          "builtin _hashlib.openssl_sha256", "pipeline/store/batch.py",
                                          "stdlib/json", "polars", "pipeline/intake/sources.py",
                                          "stdlib/os.py", "builtin posix.stat", "stdlib/re", "pipeline/ingest.py",
                                          "pipeline/settings.py"])],
        "top_own": [{"func": f"pipeline/parse/fastpath.py:{10 * i}(check_{i})", "own_us": round(20.0 / (i + 1), 2),
                     "cum_us": round(30.0 / (i + 1), 2), "calls": n * (i + 1)} for i in range(17)],
        "top_cum": [{"func": f"pipeline/ingest.py:{5 * i}(step_{i})", "cum_us": round(200.0 / (i + 1), 2)}
                    for i in range(17)],
    }


def full_state(root: Path) -> dict:
    """A full run at 10k, 100k and 1M with every phase and every hand-added re-run note, on the lake
    (the sparse run below keeps the shapes of figures kept from before it: the DuckDB file)."""
    sizes = {
        "10000": size_entry(10_000, 3, 2.4, root, rejected=66),
        "100000": size_entry(100_000, 3, 1.0, root, rejected=362),
        "1000000": size_entry(1_000_000, 2, 0.95, root, rejected=4692),
    }
    # parsedmarc and the 1-process floor slow down at 1M (the scaling prose names them), and ours'
    # least-disturbed 1M run is slow enough that the linear-scaling target comes out inconclusive
    for key, factor in (("parsedmarc", 1.5), ("floor1", 1.07)):
        for r in sizes["1000000"]["ingest"]["rows"][key]:
            r["wall"] = round(r["wall"] * factor, 3)
    sizes["1000000"]["ingest"]["rows"]["ours_files"][1].update(wall=120.0, foreign=0.0)
    sizes["1000000"]["ingest"]["rows"]["ours_files"][0]["foreign"] = 0.3
    inc_runs = lambda walls, **kw: [run(w, **kw) for w in walls]  # noqa: E731
    return {
        "sizes": sizes,
        "phases": {p: True for p in ("corpora", "ingest", "cli", "incremental", "marts", "dashboard", "profile",
                                     "rebuild")},
        "mode": "full", "command": "bash scripts/bench.sh", "sizes_asked": [10_000, 100_000, 1_000_000],
        "repeat": 3, "repeat_large": 2, "dashboard_repeat": 20, "max_wait_quiet": 20.0,
        "started": "2026-11-29 06:52 UTC", "finished": "2026-11-29 07:31 UTC", "total_seconds": 2328.4,
        "phase_seconds": {"corpora": 0.4, "ingest": 1855.2, "cli": 38.0, "incremental": 144.3, "marts": 107.1,
                          "dashboard": 34.0, "profile": 57.2, "rebuild": 92.0},
        "machine": {"cpu": "Test CPU @ 2.0GHz", "cores": 2, "ram_gib": 23.5, "os": "Linux 6.1.0", "python": "3.11.7",
                    "duckdb": "1.5.6", "polars": "2.1.0", "parsedmarc": "11.1.0", "parsedmarc_python": "3.11.7",
                    "git": "4274a13", "loadavg_start": [1.7, 1.33, 1.23], "loadavg_end": [2.09, 1.91, 2.02]},
        "pd_py": f"{root}/bench-out/parsedmarc-11.1.0-venv/bin/python",
        "reruns": [
            {"command": "bash scripts/bench.sh --only marts", "phases": ["marts"],
             "sizes": [10_000, 100_000, 1_000_000],
             "git": "5a5a5a5", "started": "2026-11-29 08:00 UTC", "seconds": 107.2, "loadavg_end": [1.0, 1.0, 1.0]},
            {"command": "bash scripts/bench.sh --only incremental", "phases": ["incremental"], "sizes": [1_000_000],
             "started": "2026-11-29 09:00 UTC", "seconds": 150.0, "why": "the fingerprints landed meanwhile"},
        ],
        "day_meta": {"base_reports": 1_000_000, "seed": 1, "generator": "abc123", "domains": 12624,
                     "start": "2026-01-31", "reports": 32540, "files": 32540, "gz_bytes": 10_770_000,
                     "dir": f"{root}/bench-out/corpus-n1000000-seed1-day31", "generate_seconds": 12.3,
                     "command": "python -c 'from pipeline.generate import write_corpus; write_corpus(OUT, "
                                "domains=12624, days=1, seed=1, start=date(2026, 1, 31), formats=(\"files\",))'"},
        "cli": {"size": 100_000, "runs": [run(38.2, cpu=41.0, rss_mib=690, foreign=0.1, ok=99638,
                                              error="exit 1: smtp_tls.json not written"),
                                          run(36.61, cpu=40.5, rss_mib=687, foreign=0.0, ok=None)],
                "command": f"{root}/bench-out/parsedmarc-11.1.0-venv/bin/parsedmarc --offline -o <dir> -r "
                           f"{root}/bench-out/corpus-n100000-seed1/files  (stdout to a file)"},
        "incremental": {
            "size": 1_000_000,
            "ingest_empty": inc_runs([3.69, 3.68, 3.82], inner=0.2, rss_mib=249),
            "run_empty": inc_runs([1.42, 1.41, 7.71], rss_mib=561),
            "day_alone": inc_runs([4.09, 3.98, 4.11], inner=2.3, rss_mib=702),
            "day_on_top": inc_runs([28.87, 28.52, 32.19], inner=8.4, rss_mib=1686),
            "day_alone_info": {"inputs": 32540, "loaded": 32540, "duplicates": 0, "quarantined": 0},
            "day_on_top_info": {"inputs": 32540, "loaded": 31870, "duplicates": 670, "quarantined": 0},
            "copy_seconds": 1.2,
            "startup_cli": inc_runs([0.18, 0.18, 0.21], rss_mib=60),
            "startup_dagster": inc_runs([0.88, 0.86, 0.91], rss_mib=151),
            "warehouse_bytes": 2_410_000_000, "lake_bytes": 640_000_000,
        },
        "incremental_by_size": {
            "100000": {"size": 100_000, "day_alone": inc_runs([1.9, 1.8, 2.0], inner=1.1),
                       "day_on_top": inc_runs([2.6, 2.5, 2.9], inner=1.3),
                       "day_alone_info": {"inputs": 3254, "loaded": 3254, "duplicates": 0, "quarantined": 0}},
            "1000000": {"size": 1_000_000, "day_alone": inc_runs([4.09, 3.98, 4.11], inner=2.3),
                        "day_on_top": inc_runs([28.87, 28.52, 32.19], inner=8.4),
                        "day_alone_info": {"inputs": 32540, "loaded": 32540, "duplicates": 0, "quarantined": 0}},
        },
        "incremental_rerun": {
            "size": 1_000_000, "started": "2026-11-29 09:00 UTC", "git": "6b6b6b6",
            "ingest_empty": inc_runs([19.4, 18.9, 0.7], inner=0.2),
            "run_empty": inc_runs([20.1, 19.7, 1.4]),
            "day_alone": inc_runs([4.1, 4.0, 4.2], inner=2.3),
            "day_on_top": inc_runs([27.0, 26.5, 28.1], inner=8.1),
        },
        "rerun_ingest_100000": {
            "started": "2026-11-29 10:00 UTC",
            "rows": {k: v for k, v in ingest_phase(100_000, 3, 1.1, root)["rows"].items() if k != "ours_mbox"},
        },
        "marts": {
            "size": 1_000_000, "whole": [18.57, 18.11, 18.69],
            "order": ["staging.reports", "staging.policies", "marts.reporter_health", "intermediate.failure_causes",
                      "marts.problems"],
            "per": {"staging.reports": [1.223, 1.183, 1.265], "staging.policies": [1.382, 1.334, 1.385],
                    "marts.reporter_health": [0.1, 0.098, 0.103], "intermediate.failure_causes": [],
                    "marts.problems": [2.5, 2.4, 2.6]},
            "rows": {"staging.reports": 1_000_000, "staging.policies": 1_091_660, "marts.reporter_health": 5,
                     "intermediate.failure_causes": None, "marts.problems": None},
            "errors": {"intermediate.failure_causes": "Catalog Error: Table with name x does not exist!",
                       "refresh_all": "IO Error: could not lock the file"},
            "split": {},
            "split_from_rerun": "2026-11-29 08:00 UTC", "rerun_whole": 18.2,
            "refresh_unchanged": 0.31,
            "process": run(60.0, rss_mib=2028),
        },
        "dashboard": {
            n: {"queries": {
                "daily_sessions": {"times": [0.021 * f, 0.019 * f, 0.025 * f, 0.02 * f], "rows": 30,
                                   "args": ""},
                "sources_by_host": {"times": [0.12 * f, 0.13 * f, 0.25 * f, 0.11 * f], "rows": 12000,
                                    "args": "host=None"},
                "reports (search 'google')": {"times": [0.03 * f] * 4, "rows": 500, "args": "search='google'"},
                "raw_report": {"times": [0.004] * 4, "rows": None, "args": "report_key='abc'"},
                **({"problem_detail": {"times": [0.05, 0.06, 0.05, 0.07], "rows": 1, "args": "problem_id=7"}}
                   if n == "1000000" else {}),
            }, "skipped": ["export_csv (no value for fmt)"], "window": {"start": "2026-01-01", "end": "2026-01-30"},
                "snapshot": f"{root}/lake/catalog.sqlite@{n[:2]}", "lake_bytes": int(n) * 640, "foreign": 0.01}
            for n, f in (("100000", 1.0), ("1000000", 1.9))
        },
        "pages": {"size": 1_000_000, "snapshot": 41, "repeat": 3, "foreign": 0.05, "reports": 1_000_000,
                  "pages": [{"page": "overview", "first": 2.4, "warm_median": 0.9, "warm_max": 1.1},
                            {"page": "domain", "first": 1.8, "warm_median": 0.7, "warm_max": 0.8}]},
        "profile": profile(100_000, 19.8, root),
        "profile_mbox": {**profile(10_000, 3.9, root, "mbox-"), "size": 10_000},
        "rebuild": {"size": 1_000_000, "run": run(92.0, cpu=150.0, rss_mib=1500, foreign=0.03, ok=1_000_000), "lake": True},
    }


def sparse_state(root: Path) -> dict:
    """A quick-mode run at 100k and 1M: the other branches. No mbox row, a size whose corpus is
    all there is, failed commands, a note, mixed and met targets, no row slower at 1M."""
    sizes = {
        "10000": {"files_meta": {}, "mbox_meta": {}},  # corpora done, ingest never ran
        "100000": size_entry(100_000, 3, 1.0, root, same=False, error_row="floor1"),
        "1000000": size_entry(1_000_000, 2, 1.0, root, same=None),
    }
    for n in ("100000", "1000000"):
        ing = sizes[n]["ingest"]
        for key in ("ours_mbox",):
            del ing["rows"][key], ing["memory"][key]
        # parsedmarc slower and the 2-process floor much slower than in the full run: the core-table
        # target is met at 100k (not the 2x asked at 1M), the whole ingest's met on the medians
        for key, factor in (("parsedmarc", 2.2), ("floor2", 6.0)):
            for r in ing["rows"][key]:
                r["wall"] = round(r["wall"] * factor, 3)
    # ... but not on ours' least-disturbed run at 100k: inconclusive
    sizes["100000"]["ingest"]["rows"]["ours_files"][2]["wall"] = 20.0
    return {
        "sizes": sizes,
        "phases": {"corpora": True, "ingest": True},
        "mode": "quick", "command": "bash scripts/bench.sh --quick --sizes 100k,1M", "repeat": 3, "repeat_large": 2,
        "dashboard_repeat": 5, "max_wait_quiet": 0.0, "started": "2026-11-30 10:00 UTC",
        "phase_seconds": {"corpora": 3.0, "ingest": 40.0},
        "machine": {"cpu": "Test CPU", "cores": 2, "loadavg_start": [0.5, 0.4, 0.3]},
        "incremental": {
            "size": 1_000_000,
            "ingest_empty": [run(0.5, inner=0.1, error="exit 3: busy")],
            "run_empty": [run(1.0)],
            "day_alone": [run(2.0, inner=1.0)],
            "day_on_top": [run(2.5, inner=1.2)],
            "day_alone_info": {"inputs": 300, "loaded": 300, "duplicates": 0, "quarantined": 0},
            "day_on_top_info": {"inputs": 300, "loaded": 300, "duplicates": 0, "quarantined": 0},
        },
        "marts": {"size": 1_000_000, "whole": [], "order": ["staging.reports"], "per": {"staging.reports": [0.05]},
                  "rows": {"staging.reports": 10_000}, "errors": {"build_all": "boom"},
                  "rerun_note": "Re-run by hand after the first attempt failed.", "refresh_unchanged": None,
                  "split": {"build_all": [], "checkpoint": []}, "process": run(3.0, rss_mib=0)},
        "dashboard": {"100000": {"queries": {"daily_sessions": {"times": [0.3, 0.25], "rows": 30, "args": ""}},
                                 "skipped": [], "snapshot_bytes": 6_000_000}},
        "profile": profile(100_000, 3.0, root),
        "rebuild": {"size": 1_000_000, "run": run(5.0, ok=1_000_000, error="exit 1: pack missing")},
        "notes": ["dashboard at 1,000,000: no published snapshot (the models failed?)"],
    }


STATES = {"full": (full_state, "docs/benchmarks-scaling.svg"),
          "sparse": (sparse_state, "bench-out/suite-quick/benchmarks-scaling.svg"),
          "empty": (lambda root: {"sizes": {}, "phases": {}}, "docs/benchmarks-scaling.svg")}  # nothing kept yet


def rendered(name: str) -> tuple[str, str | None]:
    build, chart = STATES[name]
    state = json.loads(json.dumps(build(ROOT)))  # as the suite reads it back from suite-<mode>.json
    return render(state, argparse.Namespace(chart=ROOT / chart))


def test_full_run_page_is_unchanged():
    text, svg = rendered("full")
    for section in ("## Machine and run", "## Targets", "## Ingest: ours vs parsedmarc vs the floor", "## Scaling",
                    "## Incremental runs", "## Mart rebuild", "## Dashboard queries",
                    "## Where the ingest time goes (profile)", "### What the targets ask, in µs per report",
                    "## Commands"):
        assert f"\n{section}\n" in text, section
    assert str(ROOT) not in text
    assert text == (EXPECTED / "full.md").read_text()
    assert svg == (EXPECTED / "full.svg").read_text()


def test_sparse_quick_run_page_is_unchanged():
    text, svg = rendered("sparse")
    for section in ("> **Quick run**", "## Notes", "## Failures during this run", "**MET**", "**INCONCLUSIVE**",
                    "not measured", "No row gets more than 5 % slower"):
        assert section in text, section
    assert text == (EXPECTED / "sparse.md").read_text()
    assert svg == (EXPECTED / "sparse.svg").read_text()


def test_page_without_figures_is_unchanged():
    text, svg = rendered("empty")
    assert svg is None
    assert text == (EXPECTED / "empty.md").read_text()


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    EXPECTED.mkdir(parents=True, exist_ok=True)
    for name in STATES:
        text, svg = rendered(name)
        (EXPECTED / f"{name}.md").write_text(text)
        if svg is not None:
            (EXPECTED / f"{name}.svg").write_text(svg)
        print(f"wrote {EXPECTED.relative_to(ROOT)}/{name}.md" + (" and .svg" if svg is not None else ""))
