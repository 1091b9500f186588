"""What dedupe against the lake costs a batch: pipeline/store/known_keys.py on a lake of ~1M reports.

    .venv/bin/python benchmarks/known_keys_lookup.py [--reports 1000000] [--batch 20000] [--out bench-out]

The lake is made with SQL inside it (no parsing): `reports` and `raw_objects` with schema.sql's
columns, reports partitioned by month of `report_date` as the design says, committed in batches
of `--batch` in arrival order, 2,000 reports a day (so 1M reports cover 500 days, and each data
file a few days). Catalogs: SQLite (embedded) and PostgreSQL (a throw-away server on 127.0.0.1,
tests/postgres_server.py); data files in a local folder. Then one batch of `--batch` reports,
half new and half resent, is looked up in three shapes:

  recent      the resent half from the last 5 days (the usual case: a re-delivery, a second channel)
  few late    the same, 200 of them from 5 days weeks to a year back
  scattered   800 of them from 400 days spread over the whole history (the worst case)

Per shape: `lookup` with and without the raw sha256s (wall and CPU medians of --repeat), the
data files of `reports` it read, and, for reference, what `KnownState` reads once per run today
(every key and raw sha256 of the lake). Results: benchmarks/results/known_keys_lookup.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402

from pipeline.settings import Settings  # noqa: E402
from pipeline.store.known_keys import lookup  # noqa: E402
from pipeline.store.lake import open_lake  # noqa: E402

PER_DAY = 2_000
# Report i: key, date, content and raw sha256 all follow from i, so a batch can resend any of them.
REPORT = ("substr(sha256('k' || i), 1, 32) as report_key, date '2025-01-01' + (i // {per_day})::int as report_date, "
          "sha256('c' || i) as content_sha256, sha256('r' || i) as raw_sha256").format(per_day=PER_DAY)
SHAPES = {  # resent reports besides those of the last 5 days: from how many old days, how many each
    "recent": (0, 0),
    "few late": (5, 40),
    "scattered": (400, 2),
}


def build(con: duckdb.DuckDBPyConnection, reports: int, batch: int) -> float:
    schema = (REPO / "pipeline" / "store" / "schema.sql").read_text()
    for table in ("reports", "raw_objects"):
        con.execute(re.search(rf"create table if not exists {table} \(.*?\n\);", schema, re.S).group(0))
    con.execute("alter table reports set partitioned by (year(report_date), month(report_date))")
    started = time.monotonic()
    for first in range(0, reports, batch):
        rows = f"(select {REPORT}, i from range({first}, {min(first + batch, reports)}) as t(i))"
        con.execute("begin")
        con.execute(
            "insert into reports select report_key, 'org' || (i % 50), 'id' || i, null, null, report_date::timestamptz,"
            " report_date::timestamptz + interval 1 day, report_date, report_date::timestamptz + interval 30 hour,"
            f" 'file', raw_sha256, 0, content_sha256, 1, null, null, null, null, null, [], '1', null, null, null, null,"
            f" 'unsigned' from {rows}")
        con.execute(f"insert into raw_objects select raw_sha256, 'packs/{first}.pack', i * 1000, 1000, 'json', 'b{first}' from {rows}")
        con.execute("commit")
    return time.monotonic() - started


def batch_of(con: duckdb.DuckDBPyConnection, reports: int, size: int, shape: str):
    """Half new reports (the days after the lake's last), half resent: the last days', plus the
    shape's old days spread evenly from a week after the first day to a month before the last."""
    days, each = SHAPES[shape]
    resent = size // 2 - days * each
    old = ""
    if days:
        step = (reports // PER_DAY - 37) // days
        old = f" union all select (7 + d * {step}) * {PER_DAY} + n from range({days}) as a(d), range({each}) as b(n)"
    return con.sql(f"select {REPORT} from (select range as i from range({reports}, {reports + size // 2})"
                   f" union all select range from range({reports - resent}, {reports}){old}) as t(i)").to_arrow_table()


def timed(run, repeat: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


# The alternatives to the IN list of dates that known_keys.py uses, as plain queries.
ALTERNATIVES = {
    "between first and last date": "where report_date between (select min(report_date) from parts)"
                                   " and (select max(report_date) from parts) and",
    "no date filter": "where",
}


def alternative(con: duckdb.DuckDBPyConnection, parts, where: str) -> None:
    con.register("parts", parts)
    con.execute(f"select report_key, content_sha256 from reports {where} report_key in (select report_key from parts)").fetchall()
    con.unregister("parts")


def files_read(con: duckdb.DuckDBPyConnection, run, profile: Path) -> int:
    con.execute("pragma enable_profiling = 'json'")
    con.execute(f"pragma profiling_output = '{profile}'")
    run()
    con.execute("pragma disable_profiling")
    stack = [json.loads(profile.read_text())]
    while stack:
        node = stack.pop()
        if node.get("operator_name") == "DUCKLAKE_SCAN" and node["extra_info"].get("Table") == "reports":
            return int(node["extra_info"]["Total Files Read"])
        stack.extend(node.get("children", []))
    raise AssertionError("no scan of reports in the profile")


def measure(settings: Settings, args) -> dict:
    con = open_lake(settings)
    result = {"build_s": round(build(con, args.reports, args.batch), 1),
              "files": con.execute("select count(*) from ducklake_list_files('lake', 'reports')").fetchone()[0]}
    result["known_state_ms"] = timed(lambda: (dict(con.execute("select report_key, content_sha256 from reports").fetchall()),
                                              {r[0] for r in con.execute("select raw_sha256 from raw_objects").fetchall()}), 2)
    for shape in SHAPES:
        parts = batch_of(con, args.reports, args.batch, shape)
        shas = parts["raw_sha256"].to_pylist()
        known = lookup(con, parts, shas)
        result[shape] = {
            "batch": parts.num_rows, "dates": len(set(parts["report_date"].to_pylist())),
            "found": len(known.reports), "stored": len(known.objects),
            "files_read": files_read(con, lambda: lookup(con, parts, []), args.out / "profile.json"),
            "alternatives": {name: (files_read(con, lambda: alternative(con, parts, where), args.out / "profile.json"),
                                    timed(lambda: alternative(con, parts, where), args.repeat))
                             for name, where in ALTERNATIVES.items()},
            "both_ms": timed(lambda: lookup(con, parts, shas), args.repeat),
            "reports_ms": timed(lambda: lookup(con, parts, []), args.repeat),
            "raw_ms": timed(lambda: lookup(con, parts.slice(0, 0), shas), args.repeat),
        }
    con.close()
    return result


def page(results: dict, args, started: str, load: str) -> str:
    lines = [
        "# Dedupe against the lake: the lookup per batch", "",
        f"`benchmarks/known_keys_lookup.py --reports {args.reports} --batch {args.batch} --repeat {args.repeat}`; started "
        f"{started}; {platform.machine()}, {_cores()} cores, Python {platform.python_version()}, duckdb {duckdb.__version__}. "
        f"**The machine was shared** with other sessions (1-min load average {load} while measuring): times are upper "
        "bounds; files read and counts are not timing.", "",
        f"A lake of {args.reports:,} reports (2,000 a day, so {args.reports // PER_DAY} days) committed in batches of "
        f"{args.batch:,} in arrival order, `reports` partitioned by month of `report_date`; data files in a local folder. "
        f"One batch of {args.batch:,} reports looked up: half new, half resent (see the script for the shapes). Times: "
        "median wall / CPU of the process, in ms.", "",
        "| catalog | shape | dates in batch | reports files read / all | found loaded | raw stored | reports + raw | reports only | raw only |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for catalog, result in results.items():
        for shape in SHAPES:
            r = result[shape]
            lines.append(f"| {catalog} | {shape} | {r['dates']} | {r['files_read']} / {result['files']} | {r['found']:,} | "
                         f"{r['stored']:,} | {_ms(r['both_ms'])} | {_ms(r['reports_ms'])} | {_ms(r['raw_ms'])} |")
    lines += ["", "The same reports lookup with another date restriction (files of `reports` read / all; wall / CPU ms):", "",
              "| catalog | shape | " + " | ".join(ALTERNATIVES) + " |", "|---|---|" + "---|" * len(ALTERNATIVES)]
    for catalog, result in results.items():
        for shape in SHAPES:
            cells = [f"{files} / {result['files']}: {_ms(ms)}" for files, ms in result[shape]["alternatives"].values()]
            lines.append(f"| {catalog} | {shape} | " + " | ".join(cells) + " |")
    lines += ["", "For reference, what today's `KnownState` reads once per run (every report key with its content "
              "sha256 and every raw sha256, into Python; wall / CPU ms) and building the lake:", "",
              "| catalog | KnownState read | lake build (s) |", "|---|---|---|"]
    lines += [f"| {catalog} | {_ms(result['known_state_ms'])} | {result['build_s']} |" for catalog, result in results.items()]
    return "\n".join(lines) + "\n"


def _ms(pair: tuple[float, float]) -> str:
    return f"{pair[0]:.0f} / {pair[1]:.0f}"


def _cores() -> int:
    return os.cpu_count() or 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--catalogs", default="sqlite,postgres")
    parser.add_argument("--out", type=Path, default=REPO / "bench-out" / "known_keys_lookup")
    args = parser.parse_args()
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    loads, results = [], {}
    for catalog in args.catalogs.split(","):
        data_dir = args.out / catalog
        shutil.rmtree(data_dir, ignore_errors=True)
        loads.append(_load())
        if catalog == "postgres":
            from tests import postgres_server

            with postgres_server.running() as server:
                results[catalog] = measure(Settings(data_dir=data_dir, catalog=server.create_database("lake")), args)
        else:
            results[catalog] = measure(Settings(data_dir=data_dir), args)
        loads.append(_load())
        print(catalog, json.dumps(results[catalog]), flush=True)
    load = f"{min(loads):.2f}-{max(loads):.2f}"
    target = REPO / "benchmarks" / "results" / "known_keys_lookup.md"
    target.write_text(page(results, args, started, load))
    print(f"wrote {target.relative_to(REPO)}")


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


if __name__ == "__main__":
    main()
