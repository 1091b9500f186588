"""The page, in order: the machine and the run, the targets, the ingest, scaling, incremental, mart,
rebuild, dashboard and profile sections, notes and failures, the commands. Pure: `render(state,
args)` gives the markdown and the chart (None when no ingest figures are kept)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.suite.report.chart import svg
from benchmarks.suite.report.dashboard import dashboard_section, pages_section
from benchmarks.suite.report.figures import rel
from benchmarks.suite.report.ingest import ingest_section, scaling_section
from benchmarks.suite.report.profiling import profile_section
from benchmarks.suite.report.targets import proposed_section, status, targets
from benchmarks.suite.report.warehouse import (
    incremental_section,
    marts_section,
    rebuild_section,
)


def errors(state) -> list[tuple[str, str]]:
    out = []
    for n, s in state.get("sizes", {}).items():
        for key, runs in s.get("ingest", {}).get("rows", {}).items():
            out += [(f"{key} at {int(n):,}", r["error"]) for r in runs if r.get("error")]
    for key in ("ingest_empty", "run_empty", "day_alone", "day_on_top"):
        out += [(f"incremental {key}", r["error"]) for r in state.get("incremental", {}).get(key, []) if r.get("error")]
    out += [("parsedmarc CLI", r["error"]) for r in state.get("cli", {}).get("runs", []) if r.get("error")]
    rb = state.get("rebuild", {}).get("run")
    if rb and rb.get("error"):
        out.append(("tlsrpt rebuild", rb["error"]))
    return out


def render(state, args) -> tuple[str, str | None]:
    m = state.get("machine", {})
    sizes = sorted(int(k) for k, v in state["sizes"].items() if "ingest" in v)
    chart = svg(state)
    chart_name = Path(args.chart).name
    L = ["# Benchmarks", ""]
    if state.get("mode") == "quick":
        L += ["> **Quick run** (`--quick`, 10k reports only): for developing the suite; the figures "
              "that matter are in the full run's page, docs/benchmarks.md.", ""]
    L += [
        "Written by the benchmark suite (`bash scripts/bench.sh`, see benchmarks/README.md); do not edit by "
        "hand. Everything is measured in one run on one machine, side by side: our `tlsrpt ingest` "
        "with `--no-models` (parse, validate, dedupe, land the raw bytes, the lake's core tables) and "
        "whole (the same, then the model build), parsedmarc's TLS report "
        "parser (parse only, nothing stored) and the floor (read + gunzip + `json.loads`, nothing else) "
        "on the same files.",
        "",
        "## Machine and run",
        "",
        f"- CPU: {m.get('cpu', '?')}, {m.get('cores', '?')} cores; {m.get('ram_gib', '?')} GiB RAM; {m.get('os', '')}",
        f"- Python {m.get('python', '?')}, duckdb {m.get('duckdb', '?')}, polars {m.get('polars', '?')}; "
        f"parsedmarc {m.get('parsedmarc', '?')} on Python {m.get('parsedmarc_python', '?')} in its own throw-away venv",
        f"- date: {state.get('started', '?')} to {state.get('finished', '(unfinished)')}; repo at {m.get('git', '?')}",
        f"- total wall time of the suite: {state.get('total_seconds', 0) / 60:,.1f} min "
        f"(phases, s: {', '.join(f'{k} {v:,.0f}' for k, v in state.get('phase_seconds', {}).items())}; "
        "corpora were cached from earlier runs where present)",
        f"- the machine is a shared virtual machine (its neighbours' load is not visible in its own): load average at start "
        f"{', '.join(f'{x:.2f}' for x in m.get('loadavg_start', []))}, at end "
        f"{', '.join(f'{x:.2f}' for x in m.get('loadavg_end', []))}. Before each timed run the suite waited up to "
        f"{state.get('max_wait_quiet', 0):.0f} s for other processes to use < 0.15 cores; the CPU they used "
        "while each row ran is in the last column of the ingest tables (0 = quiet, 1 = a whole core taken).",
        f"- repeats: {state.get('repeat')} runs per row below 1M, {state.get('repeat_large')} at 1M; "
        "rows interleaved (row 1, row 2, ..., then again), page cache warm.",
    ]
    for rr in state.get("reruns", []):
        L.append(f"- re-run after the full run, {rr.get('started', '?')}"
                 + (f", repo at {rr['git']}" if rr.get("git") else "")
                 + f": `{rr['command']}` ({rr.get('seconds', 0):,.0f} s): "
                 f"{rr.get('why', 'phases ' + ', '.join(rr['phases']))}.")
    L += [
        "",
        "## Targets",
        "",
        "| target | measured | status |",
        "|---|---|---|",
    ]
    for name, fig, ok in targets(state):
        L.append(f"| {name} | {fig} | {status(ok)} |")
    L += [""]
    L += proposed_section(state)
    L += ingest_section(state, sizes)
    L += scaling_section(state, sizes, chart_name)
    L += incremental_section(state)
    L += marts_section(state)
    L += rebuild_section(state)
    L += dashboard_section(state)
    L += pages_section(state)
    L += profile_section(state)
    errs = errors(state)
    if state.get("notes"):
        L += ["## Notes", ""] + [f"- {x}" for x in state["notes"]] + [""]
    if errs:
        L += ["## Failures during this run", "",
              "Commands that exited non-zero (their timings above include the failure):", ""]
        L += [f"- {where}: `{e[:400]}`" for where, e in errs] + [""]
    # commands
    L += ["## Commands", "", "```", "# this run", state.get("command", "bash scripts/bench.sh")]
    for n in sizes:
        s = state["sizes"][str(n)]
        L += [f"# corpus {n:,} (cached under bench-out/)", rel(s["files_meta"]["command"]), rel(s["mbox_meta"]["command"])]
    if state.get("day_meta"):
        L += ["# the extra day", rel(state["day_meta"]["command"])]
    if sizes:
        L += ["# each timed run (wrapped in /usr/bin/time -v; the tree sampled from /proc)"]
        L += [rel(c) for c in state["sizes"][str(sizes[-1])]["ingest"]["commands"].values()]
    if state.get("cli"):
        L.append(rel(state["cli"]["command"]))
    L += [".venv/bin/tlsrpt ingest --data-dir <1M warehouse> <empty folder>",
          ".venv/bin/tlsrpt run --data-dir <1M warehouse>",
          ".venv/bin/tlsrpt ingest --data-dir <fresh dir | copy of the 1M warehouse> <day 31>/files",
          ".venv/bin/python -m benchmarks.suite _marts <copy of the 1M warehouse> 3",
          ".venv/bin/python -m benchmarks.suite _dashboard <warehouse dir> 20",
          ".venv/bin/tlsrpt rebuild --data-dir <copy of the 1M warehouse>", "```", ""]
    return "\n".join(L), chart
