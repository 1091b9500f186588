"""How fast could the spine's ingest be with this design? A lean lower bound, beside the real one.

    .venv/bin/python benchmarks/lean_ingest_bound.py [--reports 100000] [--repeat 3] [--out bench-out]
                                                     [--rows lean,lean-parquet,ours,parsedmarc,floor]

The spine issue asks for `tlsrpt ingest` (parse, validate, dedupe, land raw, write tables) at
parsedmarc's parser speed on 100k files. This script runs the same mandated work with every
piece of machinery that is not strictly needed taken out, to see whether any rewrite of the
hot path could get there on this machine:

  lean     fork pool of 2 workers (the real `_pool`); per file: open + read + fstat, sha256,
           capped gunzip, `fastpath.decode` (orjson + the clean-report checks), the identity and
           content hashes, `rows_for`, then `frames.table` + Arrow IPC per chunk of 500. No
           sniffing, no envelope or result objects beyond what `rows_for` reads, no quarantine
           path (a report the fast path does not take is counted and dropped: less work, so
           still a lower bound). The committing process: a dict of known keys, one pack per
           batch of 20,000 (the real `write_pack`: one write + fsync), the core tables and a
           slim deliveries table committed into the lake by a writer thread (the real
           `insert_tables` in the real `in_transaction`: one lake snapshot per batch).
  lean, Parquet only  the same, but each batch's rows go straight to Parquet files (one per
           batch and date partition, pyarrow) with no catalog at all: the data files the lake
           writes per batch, without DuckDB or the catalog's commit.
  ours     `tlsrpt ingest --no-models`, the real command.
  parsedmarc  `parse_report_file` per file, the side-by-side benchmark's own row.
  floor    read + gunzip + `json.loads` in a 2-process fork pool, the side-by-side benchmark's own row
           (issue 19 asks the core tables at 0.3 of its rate at 1M).

Each row is a whole process, fresh data dir, interleaved, page cache warm; medians.
Results: benchmarks/results/lean_ingest_bound.md (100k; other sizes: lean_ingest_bound_n<size>.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ALL_ROWS = ("lean", "lean-parquet", "ours", "parsedmarc", "floor")  # what --rows may name
# the date each core table's Parquet files are split by in the "Parquet only" row
PARTITION_COLUMN = {"reports": "report_date", "policies": "report_date", "failure_details": "report_date",
                    "deliveries": "ingested_date"}


def lean_chunk(paths: list[str]) -> tuple[dict[str, bytes], int]:
    """One worker's chunk: the mandated per-file work and nothing else."""
    from pipeline.parse import containers, fastpath, frames, limits
    from pipeline.parse.envelope import Envelope
    from pipeline.parse.flatten import rows_for
    from pipeline.parse.report_parser import ParsedReport, canonical_sha256, report_key
    from pipeline.parse.worker import _NO_DKIM, ROW_TABLES

    rows: dict[str, list] = {name: [] for name in ROW_TABLES}
    tags: dict[str, list[int]] = {name: [] for name in ROW_TABLES}
    inputs: list[tuple] = []
    dropped = 0
    for path in paths:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            info = os.fstat(fd)
            data = os.read(fd, min(info.st_size, limits.MAX_INPUT_BYTES) + 1)
        finally:
            os.close(fd)
        sha = hashlib.sha256(data).hexdigest()
        clean = fastpath.decode(containers.gunzip(data))
        if clean is None:
            dropped += 1
            continue
        obj, report, flags = clean
        received = datetime.fromtimestamp(info.st_mtime, tz=timezone.utc)
        parsed = ParsedReport(
            report, flags, report_key(report.organization_name.strip(), report.report_id.strip()),
            canonical_sha256(obj), Envelope(channel="file", origin=path, received_at=received),
            extra={"raw_sha256": sha, "part_index": 0},
        )
        report_row, policy_rows, detail_rows = rows_for(parsed)
        part = len(inputs)
        for name, new in zip(ROW_TABLES, ((report_row + _NO_DKIM,), policy_rows, detail_rows)):
            rows[name].extend(new)
            tags[name].extend([part] * len(new))
        inputs.append((path, sha, len(data), data, parsed.report_key, parsed.content_sha256, received))
    import pyarrow as pa

    ipc = {name: frames.to_ipc(frames.table(name, rows[name], tags[name])) for name in ROW_TABLES}
    columns = list(zip(*inputs)) if inputs else [[] for _ in range(7)]
    ipc["inputs"] = frames.to_ipc(pa.table({
        "origin": pa.array(columns[0], pa.string()), "sha256": pa.array(columns[1], pa.string()),
        "size": pa.array(columns[2], pa.int64()), "data": pa.array(columns[3], pa.binary()),
        "report_key": pa.array(columns[4], pa.string()), "content_sha256": pa.array(columns[5], pa.string()),
        "received_at": pa.array(columns[6], frames.UTC_TIME),
    }))
    return ipc, dropped


def run_lean(list_file: str, data_dir: str, storage: str = "lake") -> None:
    """The lean pipeline as one process (what the benchmark times from outside). `storage`:
    "lake" commits the core tables as ours does (one lake transaction per batch); "parquet"
    writes each batch's rows straight to Parquet files partitioned by date (pyarrow), with no
    DuckDB and no catalog at all."""
    started = time.perf_counter()
    import pyarrow as pa
    import pyarrow.compute as pc

    from pipeline import PARSER_VERSION
    from pipeline.ingest import _pool
    from pipeline.parse import frames
    from pipeline.parse.worker import ROW_TABLES
    from pipeline.settings import Settings
    from pipeline.store.lake import in_transaction
    from pipeline.store.landing import write_pack
    from pipeline.store.warehouse import connect, insert_tables

    paths = Path(list_file).read_text().split("\n")
    paths = [p for p in paths if p]
    pool = _pool(2)
    con = connect(Settings(data_dir=Path(data_dir))) if storage == "lake" else None
    known: dict[str, str] = {}
    dropped = loaded = 0
    pending: deque = deque()
    batch: list[dict[str, pa.Table]] = []

    def write_parquet(tables: dict[str, pa.Table]) -> None:
        import pyarrow.parquet as pq

        # One file per batch and date partition (pyarrow's write_to_dataset took 5x longer).
        batch_id = tables["deliveries"]["batch_id"][0].as_py()
        for name, table in tables.items():
            column = PARTITION_COLUMN[name]
            for day in pc.unique(table[column]).to_pylist():
                folder = Path(data_dir) / "parquet" / name / f"{column}={day}"
                folder.mkdir(parents=True, exist_ok=True)
                rows = table.filter(pc.equal(table[column], pa.scalar(day, table.schema.field(column).type)))
                pq.write_table(rows, folder / f"{batch_id}.parquet", compression="snappy")

    def commit(tables: dict[str, pa.Table]) -> None:
        if con is None:
            write_parquet(tables)
            return
        in_transaction(con, lambda c: insert_tables(c, tables))

    def land(chunks: list[dict[str, pa.Table]], writer, previous):
        nonlocal loaded
        batch_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        inputs = pa.concat_tables([c["inputs"] for c in chunks])
        keep = []
        for key, content in zip(inputs["report_key"].to_pylist(), inputs["content_sha256"].to_pylist()):
            keep.append(key not in known)
            known.setdefault(key, content)
        loaded += sum(keep)
        arrivals = [{"sha256": s, "size": n, "channel": "file", "origin": o}
                    for s, n, o in zip(*(inputs[c].to_pylist() for c in ("sha256", "size", "origin")))]
        write_pack(Path(data_dir), batch_id, arrivals, inputs["data"].to_pylist())
        tables = {name: pa.concat_tables([c[name] for c in chunks]).drop_columns([frames.PART_COLUMN]) for name in ROW_TABLES}
        # the lake's core rows carry their batch (what an incremental model build starts from)
        tables = {name: t.append_column("batch_id", pa.array([batch_id] * t.num_rows, pa.string()))
                  if "batch_id" not in t.column_names else t for name, t in tables.items()}
        if not all(keep):  # never in a clean generated corpus; kept so the bound decides like ours
            tables = {n: t.filter(pc.is_in(t["report_key"], value_set=inputs["report_key"].filter(pa.array(keep))))
                      for n, t in tables.items()}
        n = inputs.num_rows
        schema = frames.SCHEMAS["deliveries"]
        now = datetime.now(timezone.utc)
        given = {
            "delivery_id": pa.array([f"{batch_id}:{i}:0" for i in range(n)], pa.string()),
            "batch_id": pa.array([batch_id] * n, pa.string()), "ingested_at": pa.array([now] * n, frames.UTC_TIME),
            "ingested_date": pa.array([now.date()] * n, pa.date32()), "received_at": inputs["received_at"],
            "channel": pa.array(["file"] * n, pa.string()), "origin": inputs["origin"], "raw_sha256": inputs["sha256"],
            "raw_size": inputs["size"], "outcome": pa.array(["loaded" if k else "duplicate" for k in keep], pa.string()),
            "report_key": inputs["report_key"], "part_index": pa.array([0] * n, pa.int32()),
            "parser_version": pa.array([PARSER_VERSION] * n, pa.string()),
        }
        tables["deliveries"] = pa.Table.from_arrays(
            [given.get(f.name, pa.nulls(n, f.type)) for f in schema], schema=schema)
        if previous is not None:
            previous.result()
        return writer.submit(commit, tables)

    with ThreadPoolExecutor(1) as writer:
        in_flight = None

        def take(answer: tuple[dict[str, bytes], int]) -> None:
            nonlocal batch, dropped, in_flight
            ipc, lost = answer
            dropped += lost
            batch.append({name: frames.from_ipc(buffer) for name, buffer in ipc.items()})
            if sum(c["inputs"].num_rows for c in batch) >= 20_000:
                in_flight = land(batch, writer, in_flight)
                batch = []

        for start in range(0, len(paths), 500):
            pending.append(pool.apply_async(lean_chunk, (paths[start:start + 500],)))
            if len(pending) >= 64:  # ingest's window: bounded memory, workers never idle
                take(pending.popleft().result())  # a Future of the real WorkerPool
        while pending:
            take(pending.popleft().result())  # a Future of the real WorkerPool
        if batch:
            in_flight = land(batch, writer, in_flight)
        if in_flight is not None:
            in_flight.result()
    if con is not None:
        con.close()
    pool.close()
    pool.join()
    print(json.dumps({"ok": loaded, "dropped": dropped, "inner_seconds": time.perf_counter() - started}))


def _timed(command: list[str]) -> tuple[float, float]:
    """(wall s, CPU s of the process tree) of one command run to completion."""
    before = os.times()
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "bench-out")
    parser.add_argument("--rows", default=",".join(ALL_ROWS),
                        help="which rows to run, comma-separated (all five at 1M, three runs a row: ~20 min)")
    args = parser.parse_args()
    corpus = args.out / f"corpus-n{args.reports}-seed{args.seed}"
    list_file = corpus / "files.txt"
    if not list_file.exists():
        sys.exit(f"{list_file} is missing: run benchmarks/ingest_vs_parsedmarc.py --reports {args.reports} first "
                 "(it generates the corpus and installs parsedmarc)")
    parsedmarc_python = next(args.out.glob("parsedmarc-*-venv/bin/python"), None)
    python = sys.executable
    side_by_side = str(REPO / "benchmarks/ingest_vs_parsedmarc.py")  # its parsedmarc and floor rows
    commands = {  # row id -> (name on the page, command for a data dir)
        "lean": ("lean", lambda d: [python, __file__, "_lean", str(list_file), d]),
        "lean-parquet": ("lean, Parquet only", lambda d: [python, __file__, "_lean", str(list_file), d, "parquet"]),
        "ours": ("ours", lambda d: [str(Path(python).parent / "tlsrpt"), "ingest", "--no-models", "--data-dir", d,
                                    str(corpus / "files")]),
        # read + gunzip + json.loads in a 2-process fork pool
        "floor": ("floor (2 processes)", lambda d: [python, side_by_side, "_floor", str(list_file), "2"]),
    }
    if parsedmarc_python is not None:
        commands["parsedmarc"] = ("parsedmarc", lambda d: [str(parsedmarc_python), side_by_side, "_parsedmarc", str(list_file)])
    wanted = args.rows.split(",")
    if set(wanted) - set(ALL_ROWS):
        sys.exit(f"unknown rows {sorted(set(wanted) - set(ALL_ROWS))}: choose from {','.join(ALL_ROWS)}")
    rows = [row for row in ALL_ROWS if row in wanted and row in commands]  # the page's order
    runs: dict[str, list[tuple[float, float]]] = {row: [] for row in rows}
    scratch = args.out / "runs-lean"
    for attempt in range(args.repeat):
        for row in rows:
            name, command = commands[row]
            target = scratch / f"{name}-{attempt}"
            subprocess.run(["rm", "-rf", str(target)], check=True)
            target.mkdir(parents=True)
            runs[row].append(_timed(command(str(target))))
            subprocess.run(["rm", "-rf", str(target)], check=True)
            print(name, attempt, f"{runs[row][-1][0]:.2f} s", file=sys.stderr)
    reference = statistics.median(w for w, _ in runs["parsedmarc"]) if "parsedmarc" in runs else None
    floor = statistics.median(w for w, _ in runs["floor"]) if "floor" in runs else None
    lines = [
        "# A lean lower bound for the spine's ingest, beside the real one",
        "",
        f"{args.reports:,} generated `.json.gz` reports, one per file; {args.repeat} runs per row, interleaved; "
        f"whole process, fresh data dir, page cache warm. What each row does: see the script's docstring.",
        "",
        "| row | wall s, median (min-max) | CPU s, median | vs parsedmarc | share of the 2-process floor |",
        "|---|---|---|---|---|",
    ]
    for row, measured in runs.items():
        name = commands[row][0]
        walls = [w for w, _ in measured]
        wall = statistics.median(walls)
        ratio = f"{reference / wall:.2f}x" if reference else "-"
        share = f"{floor / wall:.2f}" if floor else "-"
        lines.append(f"| {name} | {wall:.2f} ({min(walls):.2f}-{max(walls):.2f}) | "
                     f"{statistics.median(c for _, c in measured):.1f} | {ratio} | {share} |")
    lines += ["", f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; "
              f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; repo at {_commit()}.", "",
              "Command:", "", "```",
              f".venv/bin/python benchmarks/lean_ingest_bound.py --reports {args.reports} --repeat {args.repeat}"
              + (f" --rows {args.rows}" if args.rows != ",".join(ALL_ROWS) else ""), "```", ""]
    # One results file per size: the 100k one is the spine's, the others sit beside it.
    out = REPO / "benchmarks/results" / ("lean_ingest_bound.md" if args.reports == 100_000
                                         else f"lean_ingest_bound_n{args.reports}.md")
    out.write_text("\n".join(lines))
    print("\n".join(lines))


def _commit() -> str:
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True, text=True).stdout.strip()
    return head + (" + uncommitted changes" if dirty else "")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_lean":
        run_lean(*sys.argv[2:])
    else:
        main()
