"""Render benchmarks/results/ducklake_catalogs.md from a run of benchmarks/ducklake_catalogs.py.

    .venv/bin/python benchmarks/ducklake_catalogs_report.py [bench-out/ducklake-catalogs/results.json]
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def ms(seconds: list[float]) -> str:
    return f"{1000 * statistics.median(seconds):.0f}"


# The errors met, by the start of their message (written in full in the legend of the page).
KNOWN = {
    "IOException: IO Error: Failed to attach DuckLake MetaData": "lock",
    "TransactionException: TransactionContext Error: Failed to commit": "conflict",
}
LEGEND = (
    "Errors: **lock** = `IOException: Failed to attach DuckLake MetaData … Could not set lock on file "
    "\"…/catalog.ducklake\": Conflicting lock is held in … (PID n)` (the DuckDB-file catalog admits one process "
    "at a time, or only read-only ones); **conflict** = `TransactionException: Failed to commit: Failed to commit "
    "DuckLake transaction` (DuckLake's own commit retries were used up)."
)


def errors(found: dict) -> str:
    if not found:
        return "0"
    named = {}
    for text, n in found.items():
        label = next((short for start, short in KNOWN.items() if text.startswith(start)), text[:90])
        named[label] = named.get(label, 0) + n
    return f"{sum(named.values())} ({', '.join(f'{n} {label}' for label, n in named.items())})"


def reader_cells(reader: dict) -> str:
    latency = reader["latency"]
    timing = (f"{latency['median_ms']:.0f} / {latency['p95_ms']:.0f} / {latency['max_ms']:.0f}" if latency else "-")
    partial = "yes" if reader["partial_commit_seen"] else "no"
    return f"{reader['reads']} | {errors(reader['errors'])} | {timing} | {reader['distinct_counts']} | {partial}"


def writer_cells(writer: dict) -> str:
    return (f"{writer['commits']} | {writer['retries']} | {writer['attach_retries']} | {writer['seconds']:.1f} | "
            f"{errors(writer['errors'])}")


def render(results: dict) -> str:
    batches, rows = results["batches"], results["rows"]
    out = [
        "# DuckLake catalogs: readers during writes, two writers, load and attach costs", "",
        f"`benchmarks/ducklake_catalogs.py --batches {batches} --rows {rows}`; started {results['started']}; "
        f"{results['machine']}. **The machine was shared** with other sessions (1-min load average "
        f"{min(results['load_average'].values())}-{max(results['load_average'].values())} on 2 cores while "
        "measuring), so times are upper bounds of a quiet machine; counts, errors and retries are not timing.", "",
        "Catalogs: a DuckDB file, a SQLite file, PostgreSQL 15 (throw-away server on 127.0.0.1); data files in a "
        "local folder; DuckLake catalog format of the `ducklake` extension for DuckDB 1.5.5 with its default commit "
        "retries (`ducklake_max_retry_count` 10). Every role is its own process. Extensions installed once into "
        "an extension directory and loaded by name (pipeline/store/extensions.py).", "",
        LEGEND, "", "## Extension load per process", "",
        "| loaded | in the process, median (ms) | whole process (python start, imports, load), median (ms) |",
        "|---|---|---|",
    ]
    load = results["load"]
    for label, value in load.items():
        if label == "first_install_and_load_s":
            continue
        out.append(f"| {label} | {ms(value['in_process_s'])} | {ms(value['whole_process_s'])} |")
    first = load["first_install_and_load_s"]
    out += ["", "First use (INSTALL from the wheel into an empty extension directory, then LOAD), once each: "
            + ", ".join(f"{name} {1000 * s:.0f} ms" for name, s in first.items()) + ".", "",
            "## A no-op attach + query", "",
            f"A lake of {batches} commits x {rows:,} rows; `attach … (read_only)`, `select count(*)`, `detach`.", "",
            "| catalog | in a process with the extensions loaded, median of 10 (ms) | a whole process doing only that, "
            "median of 3 (ms) |", "|---|---|---|"]
    for kind in ("duckdb", "sqlite", "postgres"):
        noop = results[f"noop/{kind}"]
        out.append(f"| {kind} | {ms(noop['attach_query_s'])} | {ms(noop['whole_process_s'])} |")

    reader_head = "reads | reader errors | latency median / p95 / max (ms) | distinct counts seen | part of a commit seen"
    out += ["", "## Readers during writes (one writer)", "",
            f"The writer commits {batches} inserts of {rows:,} rows. `fresh`: a reader that attaches for every "
            "query (as `tlsrpt status` or the shell); `held`: one that keeps its attach (as the dashboard). "
            "Readers start first and stop when the writer is done.", "",
            "| catalog | writer commits | writer retries | writer attach retries | writer s | writer errors | reader | "
            + reader_head + " |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key in [k for k in results if k.startswith("readers/")]:
        scenario = results[key]
        for mode in ("fresh", "held"):
            if f"reader_{mode}" in scenario:
                out.append(f"| {key.split('/', 1)[1]} | {writer_cells(scenario['writer'])} | {mode} | "
                           f"{reader_cells(scenario[f'reader_{mode}'])} |")
    out += ["", "## Two writers at once, and a reader", "",
            f"Two processes each commit {batches} inserts of {rows:,} rows into the same table at the same time "
            "(appends); a fresh-attach reader runs beside them. Retries are the application's (a failed commit "
            "after DuckLake's own retries, or a failed attach), each after 50 ms (100 ms for an attach).", "",
            "| catalog | writer | commits | retries | attach retries | s | errors |", "|---|---|---|---|---|---|---|"]
    for key in [k for k in results if k.startswith("writers/")]:
        for writer in ("writer_1", "writer_2"):
            out.append(f"| {key.split('/', 1)[1]} | {writer[-1]} | {writer_cells(results[key][writer])} |")
    out += ["", "| catalog | rows expected | rows | rows lost | distinct keys | data files | reader: " + reader_head + " |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for key in [k for k in results if k.startswith("writers/")]:
        scenario = results[key]
        out.append(f"| {key.split('/', 1)[1]} | {2 * batches * rows:,} | {scenario['rows']:,} | {scenario['rows_lost']:,} | "
                   f"{scenario['distinct_keys']:,} | {scenario['data_files']} | {reader_cells(scenario['reader_fresh'])} |")
    return "\n".join(out) + "\n"


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "bench-out" / "ducklake-catalogs" / "results.json"
    target = REPO / "benchmarks" / "results" / "ducklake_catalogs.md"
    target.write_text(render(json.loads(source.read_text())))
    print(target.read_text())


if __name__ == "__main__":
    main()
