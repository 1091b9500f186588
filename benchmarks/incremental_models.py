"""What one new day costs per model: incremental build vs a full rebuild, on an ingested warehouse.

    .venv/bin/python benchmarks/incremental_models.py WAREHOUSE [--out DIR] [--repeat 2]

WAREHOUSE is a warehouse file `tlsrpt ingest --no-models` made (e.g. of
`tlsrpt generate --domains 40 --days 90`). Into a fresh warehouse file under --out it commits
every report but those of the last day as one batch and builds every model, then commits the
last day as a second batch (the daily intake) and builds again: the incremental models redo the
days it touched, the others are rebuilt in full. Then it rebuilds every model in full on the
same data. Each model's wall seconds (the median over --repeat copies), and the tables checked
equal row by row between the two builds. Run it on a quiet machine: two shared cores make
single runs vary by tens of percent.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb

from pipeline.store.warehouse import ensure_schema
from pipeline.transform import sql_models
from pipeline.transform.incremental import declared

TODAY = date(2026, 4, 15)  # fixed judging day: both builds judge against the same one
PER_REPORT = ("reports", "policies", "failure_details")


def _commit(con: duckdb.DuckDBPyConnection, batch_id: str, where: str) -> None:
    """The reports `where` picks (over src.main.reports) as one batch, as ingest commits it."""
    keys = f"(select report_key from src.main.reports where {where})"
    for table in PER_REPORT:
        con.execute(f"insert into main.{table} select * from src.main.{table} where report_key in {keys}")
    con.execute(f"insert into main.deliveries select * replace (? as batch_id) from src.main.deliveries"
                f" where outcome = 'loaded' and report_key in {keys}", [batch_id])
    loaded = con.execute(f"select count(*) from {keys}").fetchone()[0]
    con.execute("insert into main.ingest_batches values (?, now(), ?, ?, 0, 0)", [batch_id, loaded, loaded])


def _timed_build(con: duckdb.DuckDBPyConnection, full: bool) -> tuple[float, dict[str, float]]:
    """Wall seconds of one build_all and of each model in it."""
    seconds: dict[str, float] = {}
    build = sql_models._build

    def timed(con, ledger, models, key, *rest):
        started = time.perf_counter()
        build(con, ledger, models, key, *rest)
        seconds[key] = time.perf_counter() - started

    sql_models._build = timed
    try:
        started = time.perf_counter()
        sql_models.build_all(con, today=TODAY, full=full)
        return time.perf_counter() - started, seconds
    finally:
        sql_models._build = build


def _rows(con: duckdb.DuckDBPyConnection, key: str) -> Counter:
    def tolerant(value):  # sums and medians in another order differ in the last bits
        return float(f"{value:.9g}") if isinstance(value, float) else value
    return Counter(repr(tuple(map(tolerant, row))) for row in con.execute(f"select * from {key}").fetchall())


def one_copy(source: Path, path: Path) -> dict[str, object]:
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        ensure_schema(con)
        con.execute(f"attach '{source}' as src (read_only)")
        last_day = con.execute("select max(report_date) from src.main.reports").fetchone()[0]
        _commit(con, "batch-1", f"report_date < date '{last_day}'")
        sql_models.build_all(con, today=TODAY)
        _commit(con, "batch-2", f"report_date = date '{last_day}'")
        day_total, day = _timed_build(con, full=False)
        models = sql_models.load_models()
        incremental_rows = {key: _rows(con, key) for key in models}
        full_total, full = _timed_build(con, full=True)
        unequal = sorted(key for key in models if _rows(con, key) != incremental_rows[key])
        reports = con.execute("select count(*) from main.reports").fetchone()[0]
    finally:
        con.close()
    return {"reports": reports, "day_total": day_total, "full_total": full_total, "day": day, "full": full,
            "unequal": unequal, "alone_total": _day_alone(source, path, last_day)}


def _day_alone(source: Path, path: Path, last_day: date) -> float:
    """The issue's yardstick: wall seconds of building the same day into an empty warehouse."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        ensure_schema(con)
        con.execute(f"attach '{source}' as src (read_only)")
        _commit(con, "batch-1", f"report_date = date '{last_day}'")
        return _timed_build(con, full=False)[0]
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    runs = [one_copy(args.warehouse, args.out / "incremental-models.duckdb") for _ in range(args.repeat)]
    models = sql_models.load_models()
    kind = {key: "incremental" if declared(m.sql) else "full" for key, m in models.items()}
    median = statistics.median
    print(f"{runs[0]['reports']} reports; build_all, median of {args.repeat}:"
          f" one new day {median(r['day_total'] for r in runs):.2f} s,"
          f" full rebuild {median(r['full_total'] for r in runs):.2f} s,"
          f" the day alone into an empty warehouse {median(r['alone_total'] for r in runs):.2f} s")
    for label in ("incremental", "full"):
        keys = [k for k in models if kind[k] == label]
        print(f"  {label} models ({len(keys)}): one new day {median(sum(r['day'][k] for k in keys) for r in runs):.2f} s,"
              f" full {median(sum(r['full'][k] for k in keys) for r in runs):.2f} s")
    print("model | kind | one new day s | full s")
    for key in sorted(models, key=lambda k: -median(r["full"][k] for r in runs)):
        print(f"{key} | {kind[key]} | {median(r['day'][k] for r in runs for k in [key]):.3f}"
              f" | {median(r['full'][key] for r in runs):.3f}")
    unequal = sorted({k for r in runs for k in r["unequal"]})
    print("tables unequal to a full rebuild:", unequal or "none")


if __name__ == "__main__":
    main()
