"""`python -m benchmarks.suite [options]` (what scripts/bench.sh runs), and the two worker modes
the suite starts as child processes: `_marts DB_COPY REPEAT` and `_dashboard DATA_DIR REPEAT`."""

from __future__ import annotations

import sys

from benchmarks.suite.cli import main
from benchmarks.suite.dashboard_worker import worker_dashboard
from benchmarks.suite.marts_worker import worker_marts

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_marts":
        worker_marts(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_dashboard":
        worker_dashboard(sys.argv[2], int(sys.argv[3]))
    else:
        main()
