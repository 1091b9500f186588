"""The benchmark suite: ingest vs parsedmarc vs the floor at 10k / 100k / 1M reports, scaling,
incremental runs, the mart rebuild and every dashboard query; writes docs/benchmarks.md.

    bash scripts/bench.sh            # the full run (about an hour on 2 cores, corpora cached)
    bash scripts/bench.sh --quick    # 10k reports only, a few minutes; results under bench-out/

(`scripts/bench.sh` runs `.venv/bin/python -m benchmarks.suite "$@"` from the repo root.)

Not part of the test run (pytest's testpaths is `tests`). Everything it writes goes under
--out (default bench-out/, git-ignored), except the results page and its chart (docs/, or
bench-out/suite-quick/ with --quick). Phases, in order; the page is rewritten after each one, and
the measurements are kept in <out>/suite-<mode>.json, so `--only PHASE` can redo one phase and
`--render-only` rewrites the page from the kept figures:

  corpora     `tlsrpt generate` per size: one .json.gz per report (files) and the same reports as
              one mbox (`--formats mbox`), plus one later day of the same world for the
              incremental runs (pipeline.generate.write_corpus with a later start: the CLI has no
              --start). Cached under --out with a marker (size, seed, hash of the generator).
  ingest      per size, interleaved rows, each a whole process timed from outside with
              /usr/bin/time -v and a /proc sampler of the whole process tree (RSS and PSS):
              ours on the files (core tables only, `--no-models`, and the whole command), ours on
              the mbox, parsedmarc's parse_report_file per file,
              the floor (read + gunzip + json.loads) in 1 and 2 processes.
  cli         parsedmarc's CLI (`parsedmarc --offline -o DIR -r FILES`) at 100k (1 run).
  incremental on the largest size's warehouse: `tlsrpt ingest` of an empty folder and
              `tlsrpt run` with an empty inbox; one new day on top vs the same day alone.
  marts       full rebuild of the SQL models on a copy of the largest data dir (its lake): build_all
              forced to rebuild every model in full, and each model's `create or replace table` timed alone, in
              build order (read from pipeline.transform.sql_models, so new models show up by themselves).
  dashboard   every query function of app/data.py against the lake pinned to the last passed
              build (as the app reads it), at 100k and the largest size: median and p95.
  profile     cProfile of `tlsrpt ingest --workers 1` at 100k (py-spy is not in the venv):
              where the time per report goes.
  rebuild     `tlsrpt rebuild` (replay every pack into a new lake) at the largest size, once.
  pages       only with --only pages (needs Debian's Chromium and Playwright): every dashboard
              page loaded in a browser on the largest warehouse (benchmarks/dashboard_pages.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.suite import REPO
from benchmarks.suite.runner import EXTRA_PHASES, PHASES, Suite


def parse_sizes(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        mult = 1
        if part.endswith("k"):
            part, mult = part[:-1], 1000
        elif part.endswith("m"):
            part, mult = part[:-1], 1_000_000
        out.append(int(float(part) * mult))
    return sorted(out)


def parse_sizes_one(text: str) -> int:
    return parse_sizes(text)[0]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="bash scripts/bench.sh", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="10k reports only (a few minutes), results to bench-out/suite-quick/: for developing")
    ap.add_argument("--sizes", type=parse_sizes, default=None, help="corpus sizes (default 10k,100k,1M; quick: 10k)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="runs per row below 1M (default 3)")
    ap.add_argument("--repeat-large", type=int, default=2, help="runs per row at 1M and above (default 2)")
    ap.add_argument("--dashboard-repeat", type=int, default=20, help="timed calls per dashboard query (default 20)")
    ap.add_argument("--out", type=Path, default=REPO / "bench-out")
    ap.add_argument("--results", type=Path, default=None, help="results page (default docs/benchmarks.md)")
    ap.add_argument("--chart", type=Path, default=None, help="scaling chart (default docs/benchmarks-scaling.svg)")
    ap.add_argument("--max-wait-quiet", type=float, default=20.0,
                    help="before each timed run wait up to S s for other processes to use < 0.15 cores "
                         "(default 20; 0 = never wait). The load seen is recorded either way.")
    ap.add_argument("--only", type=lambda t: t.split(","), default=None,
                    help=f"run only these phases ({','.join(PHASES)}; also {','.join(EXTRA_PHASES)}), "
                         "keeping the other figures")
    ap.add_argument("--skip", type=lambda t: t.split(","), default=[], help="phases to skip")
    ap.add_argument("--profile-mbox", type=parse_sizes_one, default=10_000,
                    help="also profile the ingest of an mbox of this many reports (default 10k; 0 = no)")
    ap.add_argument("--render-only", action="store_true", help="rewrite the page from the kept figures")
    args = ap.parse_args(argv)
    if args.sizes is None:
        args.sizes = [10_000] if args.quick else [10_000, 100_000, 1_000_000]
    quick_dir = args.out.absolute() / "suite-quick"
    if args.results is None:
        args.results = quick_dir / "benchmarks.md" if args.quick else REPO / "docs" / "benchmarks.md"
    if args.chart is None:
        args.chart = args.results.parent / "benchmarks-scaling.svg"
    for p in (args.only or []) + args.skip:
        if p not in PHASES + EXTRA_PHASES:
            ap.error(f"unknown phase {p!r}; phases: {', '.join(PHASES + EXTRA_PHASES)}")
    Suite(args).main()
