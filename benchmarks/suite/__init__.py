"""The benchmark suite: `bash scripts/bench.sh` runs `python -m benchmarks.suite` (see cli.py for
the command and its phases, benchmarks/README.md for what each measures). One module per job:

    cli               the command line and its defaults
    runner            one run: the kept figures, the phases in order, the page rewritten after each
    measure           one command's process tree measured: wall, CPU, peak RSS and PSS, others' load
    corpora           the generated corpora the suite measures on, cached under --out
    ingest_phases     corpora, ingest, cli: ours vs parsedmarc vs the floor, same files, same run
    warehouse_phases  incremental, startup, marts, dashboard, rebuild: on the largest warehouse
    profiling         the profile phase: cProfile of one ingest, summarised per report
    marts_worker      `_marts`: the SQL models timed inside one process, on a warehouse copy
    dashboard_worker  `_dashboard`: every query of app/data.py timed inside one process
    report/           the results page and its chart, from the kept figures alone
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def log(msg: str) -> None:
    print(f"[{datetime.now(timezone.utc).strftime('%H:%M:%S')}] {msg}", flush=True)
