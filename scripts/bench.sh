#!/usr/bin/env bash
# The benchmark suite (not part of the test run): corpora of 10k/100k/1M reports via
# `tlsrpt generate`, our ingest vs parsedmarc vs the floor, scaling, incremental runs, the mart
# rebuild and every dashboard query; writes docs/benchmarks.md and docs/benchmarks-scaling.svg.
#   bash scripts/bench.sh            # full run (about an hour on 2 cores; corpora cached in bench-out/)
#   bash scripts/bench.sh --quick    # 10k only, a few minutes, results in bench-out/suite-quick/
#   bash scripts/bench.sh --help     # options (--only PHASE, --render-only, --sizes, --repeat ...)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    echo "no .venv: run 'bash scripts/setup.sh' (or scripts/demo.sh) first" >&2
    exit 2
fi
exec .venv/bin/python -m benchmarks.suite "$@"
