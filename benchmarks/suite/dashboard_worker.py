"""The `_dashboard` worker mode (`python -m benchmarks.suite _dashboard DATA_DIR REPEAT`): every
query function of app/data.py timed inside one process against the lake pinned to the last passed
build, as the app reads it (pipeline/read.py); prints its figures as one JSON line."""

from __future__ import annotations

import inspect
import json
import os
import time
from datetime import timedelta
from pathlib import Path


def _dashboard_calls(snap: str):
    """(name, thunk) for every query function of app/data.py that reads the snapshot (`snap`, the
    token of pipeline.read.current_snapshot: the lake pinned to the last passed build)."""
    from app import data
    from pipeline import read

    data.run = data.run.__wrapped__  # bypass st.cache_data: every call goes to the lake
    first, last = read.query(snap, "select min(report_date), max(report_date) from marts.daily_domain_sessions").row(0)
    key = read.query(snap, "select report_key from main.reports order by report_key limit 1").item()
    default = data.Filters((), max(first, last - timedelta(days=29)), last, None, False)
    values = {"f": default, "snap": snap, "search": "", "outcome": None, "report_key": key}
    calls, skipped = [], []

    def guess(pname: str, annotation) -> tuple[bool, object]:
        """A value for an argument the suite does not know: None when the type allows it (a filter
        left open), else a value of the column of that name in the snapshot (e.g. problem_id -> a
        row of detect.problems)."""
        if "None" in str(annotation) or "Optional" in str(annotation):
            return True, None  # a filter left open, as the page starts
        found = read.query(snap, "select schema_name, table_name from duckdb_columns() where column_name = ? "
                                 "and database_name = current_database() "
                                 "order by schema_name = 'marts' desc, schema_name = 'main' desc limit 1", [pname])
        if found.height:
            schema, table = found.row(0)
            row = read.query(snap, f'select "{pname}" from {schema}.{table} where "{pname}" is not null limit 1')
            if row.height:
                return True, row.item()
        return False, None

    for name, fn in inspect.getmembers(data, inspect.isfunction):
        if fn.__module__ != data.__name__ or name.startswith("_"):
            continue
        params = inspect.signature(fn).parameters
        if "snap" not in params:
            continue
        args, missing = {}, []
        for p in params.values():
            if p.name in values:
                args[p.name] = values[p.name]
            elif p.default is not inspect.Parameter.empty:
                continue
            else:
                ok, value = guess(p.name, p.annotation)
                if ok:
                    args[p.name] = value
                else:
                    missing.append(p.name)
        if missing:
            skipped.append(f"{name} (no value for {', '.join(missing)})")
            continue
        desc = ", ".join(f"{k}={v!r}" for k, v in args.items() if k not in ("f", "snap"))
        calls.append((name, lambda fn=fn, args=args: fn(**args), desc))
        if name == "reports":  # the search box: a second, typed variant
            calls.append(("reports (search 'google')",
                          lambda fn=fn, args=args: fn(**{**args, "search": "google"}), "search='google'"))
        if name == "deliveries":
            calls.append(("deliveries (quarantined)",
                          lambda fn=fn, args=args: fn(**{**args, "outcome": "quarantined"}), "outcome='quarantined'"))
    return calls, skipped, {"start": default.start.isoformat(), "end": default.end.isoformat()}


def worker_dashboard(data_dir: str, repeat: int) -> None:
    import logging

    os.environ["TLSRPT_DATA_DIR"] = data_dir
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from pipeline import read

    snap = read.current_snapshot()  # the settings read TLSRPT_DATA_DIR, as the app's do
    if snap is None:
        print(json.dumps({"error": f"no lake under {data_dir} (the ingest failed?)", "queries": {}}))
        return
    calls, skipped, window = _dashboard_calls(snap)
    out = {}
    for name, thunk, desc in calls:
        result = thunk()  # warm-up: imports, page cache
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            thunk()
            times.append(time.perf_counter() - t0)
        rows = getattr(result, "height", None) if result is not None else 0
        if isinstance(result, str):
            rows = 1
        out[name] = {"times": times, "rows": rows, "args": desc}
    lake_bytes = sum(p.stat().st_size for p in (Path(data_dir) / "lake").rglob("*") if p.is_file())
    print(json.dumps({"queries": out, "skipped": skipped, "window": window, "snapshot": snap,
                      "lake_bytes": lake_bytes}))
