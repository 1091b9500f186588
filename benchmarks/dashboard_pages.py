"""Time every dashboard page on a warehouse of N generated reports (default 100,000).

    .venv/bin/python benchmarks/dashboard_pages.py [--reports N] [--repeat K] [--out bench-out]

Builds (or reuses) bench-out/dashboard-N/ : tlsrpt ingest of the benchmark corpus, models and a
published snapshot. Then renders each page with Streamlit's AppTest (the script run that a
browser session triggers: every query and chart), the query cache cleared before each render so
nothing is served from memory. Prints median and max per page, and writes
benchmarks/results/dashboard_pages.md. Not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PAGES = ["overview", "by_result", "by_source", "problems", "policies", "reports"]


def build(out: Path, reports: int) -> Path:
    corpus = out / f"corpus-n{reports}-seed1"
    data_dir = out / f"dashboard-{reports}"
    tlsrpt = [sys.executable, "-m", "pipeline"]
    if not (corpus / "files").is_dir():
        subprocess.run([*tlsrpt, "generate", "--reports", str(reports), "--formats", "files", "--seed", "1", str(corpus)], check=True)
    if not (data_dir / "snapshots" / "CURRENT").exists():
        subprocess.run([*tlsrpt, "ingest", "--data-dir", str(data_dir), str(corpus / "files")], check=True)
    return data_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out")
    args = parser.parse_args()
    data_dir = build(args.out, args.reports)
    os.environ["TLSRPT_DATA_DIR"] = str(data_dir)
    from streamlit.testing.v1 import AppTest

    from app import data

    rows = []
    for page in PAGES:
        times = []
        for _ in range(args.repeat + 1):
            at = AppTest.from_file(str(ROOT / "app" / "streamlit_app.py"), default_timeout=120)
            at.run()
            if page != "overview":
                at.switch_page(f"app_pages/{page}.py")
            data.run.clear()  # every query of the timed render goes to the snapshot
            started = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - started)
            assert not at.exception, at.exception
        times = times[1:]  # the first render also imports the page's modules
        rows.append((page, statistics.median(times), max(times)))
        print(f"{page:10s} median {statistics.median(times):.3f} s  max {max(times):.3f} s", flush=True)
    result = ROOT / "benchmarks" / "results" / "dashboard_pages.md"
    lines = [f"# Dashboard page render times, {args.reports:,} reports", "",
             f"`.venv/bin/python benchmarks/dashboard_pages.py --reports {args.reports} --repeat {args.repeat}`;"
             " AppTest script run per page, query cache cleared before each render, default filters (last 30 days of data).", "",
             "| page | median s | max s |", "|---|---|---|"]
    lines += [f"| {page} | {median:.3f} | {worst:.3f} |" for page, median, worst in rows]
    result.write_text("\n".join(lines) + "\n")
    print(f"wrote {result}")


if __name__ == "__main__":
    main()
