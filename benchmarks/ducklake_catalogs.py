"""Which DuckLake catalog, and what a process pays for DuckLake: the facts issue 17's design needs.

    .venv/bin/python benchmarks/ducklake_catalogs.py [--batches 10] [--rows 20000] [--out bench-out]

Small and bounded (a few hundred thousand rows, a few seconds a scenario): the machine is shared.
Catalogs: a DuckDB file, a SQLite file, and PostgreSQL (a throw-away server on 127.0.0.1 from
tests/postgres_server.py, as user postgres). Data files in a local folder. Each scenario runs
whole processes of this script (`--role writer|reader|probe`), as the pipeline, the dashboard
and the shell would.

  load      extension load per process: `extensions.load` of ducklake alone, + sqlite_scanner,
            + postgres_scanner, + httpfs (installed copies, by name), and ducklake by file path
  noop      attach a lake read-only + `select count(*)` + detach, in a process with the
            extensions loaded; and a whole process doing only that (python start included)
  readers   one writer commits `--batches` batches of `--rows` rows; meanwhile one reader
            attaches afresh for every query and one keeps its attach: errors, latency, and
            whether a count ever showed part of a commit
  writers   two writers at once (same table, appends), a fresh-attach reader beside them:
            application retries (after DuckLake's own commit retries), rows lost, keys twice

Results: benchmarks/results/ducklake_catalogs.md (and the JSON beside the run under --out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402

from pipeline.store import extensions  # noqa: E402

SCANNER = {"duckdb": [], "sqlite": ["sqlite_scanner"], "postgres": ["postgres_scanner"]}


def catalog_uri(kind: str, folder: Path, libpq: str = "") -> str:
    return {"duckdb": f"ducklake:{folder}/catalog.ducklake", "sqlite": f"ducklake:sqlite:{folder}/catalog.sqlite",
            "postgres": f"ducklake:postgres:{libpq}"}[kind]


def first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    text = re.sub(r'"[^"]*"', '"…"', lines[0])[:240] if lines else ""  # paths out: one key per kind
    return f"{type(error).__name__}: {text}"


def connect(kind: str, extension_dir: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": 1})
    extensions.load(con, ["ducklake", *SCANNER[kind]], extension_dir)
    return con


# ---- roles (each a process) ------------------------------------------------------------------

def role_writer(args) -> dict:
    """Commit `batches` inserts of `rows` rows; retry a failed attach or commit (max 50 each)."""
    con = connect(args.kind, args.extension_dir)
    stats = {"commits": 0, "retries": 0, "attach_retries": 0, "errors": {}, "seconds": 0.0}
    start = time.perf_counter()
    for _ in range(50):
        try:
            con.execute(f"attach '{args.uri}' as lake (data_path '{args.data_path}')")
            break
        except duckdb.Error as exc:
            stats["attach_retries"] += 1
            stats["errors"][first_line(exc)] = stats["errors"].get(first_line(exc), 0) + 1
            time.sleep(0.1)
    else:
        stats["seconds"] = time.perf_counter() - start
        return stats
    for batch in range(args.batches):
        for _ in range(50):
            try:
                con.execute(
                    "insert into lake.reports select ? as writer, ? as batch, range as n, "
                    "'org-' || (range % 97) as organization_name, concat(?, '-', ?, '-', range) as report_id, "
                    "'example-' || (range % 40) || '.com' as policy_domain, (range % 1000)::integer as sessions "
                    "from range(?)", [args.writer, batch, args.writer, batch, args.rows])
                stats["commits"] += 1
                break
            except duckdb.Error as exc:
                stats["retries"] += 1
                stats["errors"][first_line(exc)] = stats["errors"].get(first_line(exc), 0) + 1
                time.sleep(0.05)
    stats["seconds"] = time.perf_counter() - start
    return stats


def role_reader(args) -> dict:
    """Query `count(*)` until the stop file appears (at most 60 s): attach afresh for every query
    (`fresh`, like `tlsrpt status` or the shell) or keep one attach (`held`, like the dashboard)."""
    con = connect(args.kind, args.extension_dir)
    latencies, errors, seen = [], {}, []
    attached = False
    deadline = time.monotonic() + 60
    (args.stop.parent / f"ready-{os.getpid()}").touch()
    while not args.stop.exists() and time.monotonic() < deadline:
        begin = time.perf_counter()
        try:
            if not attached:
                con.execute(f"attach '{args.uri}' as lake (read_only)")
                attached = True
            seen.append(con.execute("select count(*) from lake.reports").fetchone()[0])
            latencies.append(time.perf_counter() - begin)
        except duckdb.Error as exc:
            errors[first_line(exc)] = errors.get(first_line(exc), 0) + 1
            time.sleep(0.02)
        if attached and args.mode == "fresh":
            con.execute("detach lake")
            attached = False
    return {"reads": len(latencies), "errors": errors, "latency": summary(latencies),
            "partial_commit_seen": any(n % args.rows for n in seen), "monotonic": seen == sorted(seen),
            "distinct_counts": len(set(seen))}


def role_probe(args) -> dict:
    """The load and no-op costs inside one process."""
    begin = time.perf_counter()
    con = duckdb.connect(config={"threads": 1})
    if args.by_path:
        for name in args.names:
            con.execute(f"load '{extensions.wheel_file(name, duckdb.__version__)}'")
    else:
        extensions.load(con, args.names, args.extension_dir)
    loaded = time.perf_counter() - begin
    attach_query = []
    if args.uri:
        for _ in range(args.repeat):
            begin = time.perf_counter()
            con.execute(f"attach '{args.uri}' as lake (read_only)")
            con.execute("select count(*) from lake.reports").fetchone()
            con.execute("detach lake")
            attach_query.append(time.perf_counter() - begin)
    return {"load": loaded, "attach_query": attach_query}


def summary(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)
    return {"median_ms": 1000 * statistics.median(ordered), "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))],
            "max_ms": 1000 * ordered[-1]}


# ---- orchestration ---------------------------------------------------------------------------

def run_role(role: str, *extra: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--role", role, *extra], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise SystemExit(f"{role} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_role(role: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--role", role, *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=300)
    if process.returncode != 0:
        raise SystemExit(f"role failed: {err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def new_lake(kind: str, folder: Path, extension_dir: Path, postgres, name: str) -> tuple[str, Path]:
    folder.mkdir(parents=True)
    uri = catalog_uri(kind, folder, postgres.create_database(name) if kind == "postgres" else "")
    data_path = folder / "data"
    con = connect(kind, extension_dir)
    con.execute(f"attach '{uri}' as lake (data_path '{data_path}/')")
    con.execute("create table lake.reports (writer integer, batch integer, n bigint, organization_name varchar, "
                "report_id varchar, policy_domain varchar, sessions integer)")
    con.close()
    return uri, data_path


def common(kind: str, uri: str, data_path: Path, extension_dir: Path, rows: int) -> list[str]:
    return ["--kind", kind, "--uri", uri, "--data-path", f"{data_path}/", "--extension-dir", str(extension_dir),
            "--rows", str(rows)]


def wait_ready(folder: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while len(list(folder.glob("ready-*"))) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def scenario_load(extension_dir: Path, repeat: int) -> dict:
    combos = {"ducklake": ["ducklake"], "ducklake + sqlite_scanner": ["ducklake", "sqlite_scanner"],
              "ducklake + postgres_scanner": ["ducklake", "postgres_scanner"],
              "ducklake + postgres_scanner + httpfs": ["ducklake", "postgres_scanner", "httpfs"]}
    first_install = {}
    scratch = extension_dir.parent / "first-install"
    for name in ("ducklake", "sqlite_scanner", "postgres_scanner", "httpfs"):
        con = duckdb.connect()
        begin = time.perf_counter()
        extensions.load(con, [name], scratch)
        first_install[name] = time.perf_counter() - begin
        con.close()
    results = {"first_install_and_load_s": first_install}
    for label, names in [("none (python + import duckdb + connect)", []), *combos.items(),
                         ("ducklake by file path (no install)", None)]:
        runs, whole = [], []
        for _ in range(repeat):
            extra = ["--names", *(["ducklake"] if names is None else names), "--extension-dir", str(extension_dir)]
            begin = time.perf_counter()
            runs.append(run_role("probe", *extra, *(["--by-path"] if names is None else []))["load"])
            whole.append(time.perf_counter() - begin)
        results[label] = {"in_process_s": runs, "whole_process_s": whole}
    return results


def scenario_noop(kind: str, uri: str, extension_dir: Path, repeat: int) -> dict:
    inside = run_role("probe", "--names", "ducklake", *SCANNER[kind], "--extension-dir", str(extension_dir),
                      "--uri", uri, "--repeat", str(repeat))
    whole = []
    for _ in range(3):
        begin = time.perf_counter()
        run_role("probe", "--names", "ducklake", *SCANNER[kind], "--extension-dir", str(extension_dir), "--uri", uri,
                 "--repeat", "1")
        whole.append(time.perf_counter() - begin)
    return {"attach_query_s": inside["attach_query"], "whole_process_s": whole}


def scenario_readers(kind: str, folder: Path, extension_dir: Path, postgres, batches: int, rows: int,
                     modes: tuple[str, ...] = ("fresh", "held")) -> dict:
    uri, data_path = new_lake(kind, folder, extension_dir, postgres, f"readers_{kind}_{len(modes)}")
    base = common(kind, uri, data_path, extension_dir, rows)
    stop = folder / "stop"
    readers = {mode: start_role("reader", *base, "--mode", mode, "--stop", str(stop)) for mode in modes}
    wait_ready(folder, len(modes))
    writer = run_role("writer", *base, "--batches", str(batches), "--writer", "1")
    stop.touch()
    return {"writer": writer, **{f"reader_{mode}": finish(p) for mode, p in readers.items()},
            **final_counts(kind, uri, extension_dir)}


def scenario_writers(kind: str, folder: Path, extension_dir: Path, postgres, batches: int, rows: int) -> dict:
    uri, data_path = new_lake(kind, folder, extension_dir, postgres, f"writers_{kind}")
    base = common(kind, uri, data_path, extension_dir, rows)
    stop = folder / "stop"
    reader = start_role("reader", *base, "--mode", "fresh", "--stop", str(stop))
    wait_ready(folder, 1)
    writers = [start_role("writer", *base, "--batches", str(batches), "--writer", str(w)) for w in (1, 2)]
    results = [finish(w) for w in writers]
    stop.touch()
    counts = final_counts(kind, uri, extension_dir)
    counts["rows_lost"] = 2 * batches * rows - counts["rows"]
    return {"writer_1": results[0], "writer_2": results[1], "reader_fresh": finish(reader), **counts}


def final_counts(kind: str, uri: str, extension_dir: Path) -> dict:
    con = connect(kind, extension_dir)
    con.execute(f"attach '{uri}' as lake (read_only)")
    rows, keys = con.execute("select count(*), count(distinct (writer, report_id)) from lake.reports").fetchone()
    files = con.execute("select count(*) from ducklake_list_files('lake', 'reports')").fetchone()[0]
    return {"rows": rows, "distinct_keys": keys, "data_files": files}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=["writer", "reader", "probe"])
    parser.add_argument("--kind", default="duckdb")
    parser.add_argument("--uri", default="")
    parser.add_argument("--data-path", default="")
    parser.add_argument("--extension-dir", type=Path)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--writer", type=int, default=1)
    parser.add_argument("--mode", default="fresh")
    parser.add_argument("--stop", type=Path)
    parser.add_argument("--names", nargs="*", default=[])
    parser.add_argument("--by-path", action="store_true")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--out", type=Path, default=REPO / "bench-out")
    args = parser.parse_args()
    if args.role:
        print(json.dumps({"writer": role_writer, "reader": role_reader, "probe": role_probe}[args.role](args)))
        return

    from tests import postgres_server

    work = args.out.absolute() / "ducklake-catalogs"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    extension_dir = work / "duckdb_extensions"
    results: dict = {"started": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "load_average": {},
                     "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                                f"duckdb {duckdb.__version__}", "batches": args.batches, "rows": args.rows}

    def note(name: str, value) -> None:
        results[name] = value
        results["load_average"][name] = Path("/proc/loadavg").read_text().split()[0]
        print(name, json.dumps(value)[:600], flush=True)

    with postgres_server.running() as postgres:
        note("load", scenario_load(extension_dir, 5))
        for kind in ("duckdb", "sqlite", "postgres"):
            note(f"readers/{kind}", scenario_readers(kind, work / f"readers-{kind}", extension_dir, postgres,
                                                     args.batches, args.rows))
            uri = catalog_uri(kind, work / f"readers-{kind}", postgres.libpq(f"readers_{kind}_2"))
            note(f"noop/{kind}", scenario_noop(kind, uri, extension_dir, 10))
        # The DuckDB file without a reader that keeps its attach: can the writer slip in between?
        note("readers/duckdb, fresh reader only", scenario_readers(
            "duckdb", work / "readers-duckdb-fresh", extension_dir, postgres, args.batches, args.rows, ("fresh",)))
        for kind in ("sqlite", "postgres", "duckdb"):
            note(f"writers/{kind}", scenario_writers(kind, work / f"writers-{kind}", extension_dir, postgres,
                                                     args.batches, args.rows))
    (work / "results.json").write_text(json.dumps(results, indent=1))
    print(f"wrote {work / 'results.json'}")


if __name__ == "__main__":
    main()
