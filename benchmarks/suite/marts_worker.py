"""The `_marts` worker mode (`python -m benchmarks.suite _marts DATA_DIR_COPY REPEAT`): the SQL
models timed inside one process on a copy of a data dir (its lake); prints its figures as one
JSON line."""

from __future__ import annotations

import inspect
import json
import time
from pathlib import Path


def worker_marts(data_dir_copy: str, repeat: int) -> None:
    """On a copy of a data dir: the full rebuild of every SQL model as `tlsrpt ingest` runs it when
    anything changed (`sql_models.build_all`: every model in one transaction, committed into the
    lake: Parquet files written and catalog rows in one commit); then `refresh_all` once more with
    nothing changed (the pipeline skips unchanged models); then each model's `create or replace
    table` alone, in build order, each in its own transaction."""
    import duckdb

    from pipeline.settings import Settings
    from pipeline.store import warehouse
    from pipeline.transform import sql_models as sm

    settings = Settings(data_dir=Path(data_dir_copy))
    models = sm.load_models()
    order = sm.build_order(models)
    errors: dict[str, str] = {}
    kwargs = {}
    if "thresholds" in inspect.signature(sm.build_all).parameters and hasattr(sm, "load_thresholds"):
        kwargs["thresholds"] = sm.load_thresholds(settings.data_dir)
    if "full" in inspect.signature(sm.build_all).parameters:
        kwargs["full"] = True  # every model in full: the increments are what `incremental` measures
    whole: list[float] = []
    # As refresh_all opens the lake (the memory a model build may use, where the code has one).
    build_memory = {"memory_limit": warehouse.MODEL_BUILD_MEMORY} if hasattr(warehouse, "MODEL_BUILD_MEMORY") else {}
    con = warehouse.connect(settings, threads=warehouse.ALL_CORES, **build_memory)
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            sm.build_all(con, models, **kwargs)  # forced: every model, whatever changed
            whole.append(time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - report it, time the models one by one anyway
        errors["build_all"] = " ".join(str(exc).split())[:500]
    con.close()
    unchanged = None
    try:
        t0 = time.perf_counter()
        sm.refresh_all(settings)
        unchanged = time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001
        errors["refresh_all"] = " ".join(str(exc).split())[:500]
    con = warehouse.connect(settings, threads=warehouse.ALL_CORES, **build_memory)
    per: dict[str, list[float]] = {k: [] for k in order}
    rows: dict[str, int | None] = {}
    for _ in range(repeat):
        for key in order:
            m = models[key]
            t0 = time.perf_counter()
            try:
                con.execute("begin transaction")
                con.execute(f"create schema if not exists {m.schema}")
                con.execute(f"create or replace table {m.key} as {m.sql}")
                con.execute("commit")
            except duckdb.Error as exc:
                con.execute("rollback")
                errors[key] = " ".join(str(exc).split())[:300]
                continue
            per[key].append(time.perf_counter() - t0)
    for key in order:
        try:
            rows[key] = con.execute(f"select count(*) from {key}").fetchone()[0]
        except duckdb.Error:
            rows[key] = None
    con.close()
    print(json.dumps({"whole": whole, "order": order, "per": per, "rows": rows, "errors": errors,
                      "refresh_unchanged": unchanged}))
