"""What the page computes from the kept runs and how it prints them: medians, rates, the run other
processes disturbed least, MiB and milliseconds, the rows' labels."""

from __future__ import annotations

import math
import statistics

from benchmarks.suite import REPO

GIB_KB = 1024 * 1024
ROW_LABELS = {
    "ours_core": "ours: `tlsrpt ingest --no-models` of the files (core tables)",
    "ours_files": "ours: `tlsrpt ingest` of the files",
    "ours_mbox": "ours: `tlsrpt ingest` of the mbox",
    "parsedmarc": "parsedmarc `parse_report_file` per file (1 process)",
    "floor1": "floor: read + gunzip + json.loads (1 process)",
    "floor2": "floor: read + gunzip + json.loads (2 processes)",
}
COLORS = {"ours_core": "#9467bd", "ours_files": "#d62728", "ours_mbox": "#ff7f0e", "parsedmarc": "#1f77b4",
          "floor1": "#2ca02c", "floor2": "#17becf"}


def rel(text: str) -> str:
    return str(text).replace(str(REPO) + "/", "")


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def p95(xs):
    s = sorted(xs)
    return s[max(0, math.ceil(0.95 * len(s)) - 1)] if s else float("nan")


def walls(runs):
    return [r["wall"] for r in runs]


def spread(runs, unit="s", digits=2):
    w = walls(runs)
    if not w:
        return "n/a"
    if len(w) == 1:
        return f"{w[0]:.{digits}f} (1 run)"
    return f"{med(w):.{digits}f} ({min(w):.{digits}f}-{max(w):.{digits}f})"


def mib(kb):
    return f"{kb / 1024:,.0f} MiB" if kb else "n/a"


def ms(s):
    return f"{s * 1000:,.1f}" if s == s else "n/a"


def human(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else (
        f"{n // 1000}k" if n % 1000 == 0 else str(n))


def rate(state, n, key):
    rows = state["sizes"].get(str(n), {}).get("ingest", {}).get("rows", {})
    w = walls(rows.get(key, []))
    return n / med(w) if w else None


def quiet_run(state, n, key):
    """The run that other processes disturbed least (lowest foreign load; ties: fastest)."""
    rows = state["sizes"].get(str(n), {}).get("ingest", {}).get("rows", {})
    runs = rows.get(key, [])
    return min(runs, key=lambda r: (round(r["foreign"], 1), r["wall"])) if runs else None


def qrate(state, n, key):
    r = quiet_run(state, n, key)
    return n / r["wall"] if r else None


def with_memory(ing: dict, key: str) -> list[dict]:
    """The timed runs of a row plus its memory run: timed runs do not sample memory (the sampler
    slows a two-process run), one extra run per row does (suite.measure)."""
    memory = ing.get("memory", {}).get(key)
    return ing["rows"].get(key, []) + ([memory] if memory else [])


def new_days(per_size: dict) -> list[tuple[int, dict, float, float]]:
    """(warehouse size, its figures, median wall alone, median wall on top) for each kept warehouse
    of the incremental phase whose one new day was measured both ways, smallest first."""
    out = []
    for key in sorted(per_size, key=int):
        one = per_size[key]
        if one.get("day_alone") and one.get("day_on_top"):
            out.append((int(key), one, med(walls(one["day_alone"])), med(walls(one["day_on_top"]))))
    return out
