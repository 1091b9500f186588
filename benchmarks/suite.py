"""The benchmark suite: ingest vs parsedmarc vs the floor at 10k / 100k / 1M reports, scaling,
incremental runs, the mart rebuild and every dashboard query; writes docs/benchmarks.md.

    bash scripts/bench.sh            # the full run (about an hour on 2 cores, corpora cached)
    bash scripts/bench.sh --quick    # 10k reports only, a few minutes; results under bench-out/

(`scripts/bench.sh` runs `.venv/bin/python -m benchmarks.suite "$@"` from the repo root.)

Not part of the test run (pytest's testpaths is `tests`). Everything it writes goes under
--out (default bench-out/, git-ignored), except the results page and its chart (docs/, or
bench-out/suite-quick/ with --quick). Phases, in order; the page is rewritten after each one, and
the measurements are kept in <out>/suite-<mode>.json, so `--only PHASE` can redo one phase and
`--render-only` rewrites the page from the kept figures:

  corpora     `tlsrpt generate` per size: one .json.gz per report (files) and the same reports as
              one mbox (`--formats mbox`), plus one later day of the same world for the
              incremental runs (pipeline.generate.write_corpus with a later start: the CLI has no
              --start). Cached under --out with a marker (size, seed, hash of the generator).
  ingest      per size, interleaved rows, each a whole process timed from outside with
              /usr/bin/time -v and a /proc sampler of the whole process tree (RSS and PSS):
              ours on the files (core tables only, `--no-models`, and the whole command), ours on
              the mbox, parsedmarc's parse_report_file per file,
              the floor (read + gunzip + json.loads) in 1 and 2 processes.
  cli         parsedmarc's CLI (`parsedmarc --offline -o DIR -r FILES`) at 100k (1 run).
  incremental on the largest size's warehouse: `tlsrpt ingest` of an empty folder and
              `tlsrpt run` with an empty inbox; one new day on top vs the same day alone.
  marts       full rebuild of the SQL models on a copy of the largest warehouse: refresh_all as
              the pipeline runs it, and each model's `create or replace table` timed alone, in
              build order (read from pipeline.transform.sql_models, so new models show up by themselves).
  dashboard   every query function of app/data.py against the published snapshot, at 100k and
              the largest size: median and p95.
  profile     cProfile of `tlsrpt ingest --workers 1` at 100k (py-spy is not in the venv):
              where the time per report goes.
  rebuild     `tlsrpt rebuild` (replay every pack into empty tables) at the largest size, once.
"""

from __future__ import annotations

import argparse
import gzip
import inspect
import json
import os
import platform
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import ingest_vs_parsedmarc as base  # noqa: E402  (stdlib only at import)

PARSEDMARC_VERSION = base.PARSEDMARC_VERSION
SCRIPT_IVP = str(REPO / "benchmarks" / "ingest_vs_parsedmarc.py")
ISSUE_CLI_RATE = 2_750  # parsedmarc CLI reports/s on 100k, as measured in the issue
GIB = 1024 * 1024  # in kB
PHASES = ("corpora", "ingest", "cli", "incremental", "marts", "dashboard", "profile", "rebuild")
EXTRA_PHASES = ("startup",)  # part of `incremental`; alone with --only startup

# --------------------------------------------------------------------------------------------
# measuring a process tree: wall, CPU, ru_maxrss (largest process), summed RSS and PSS (sampled)
# --------------------------------------------------------------------------------------------


def _rss_pss_kb(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
                    break
    except (OSError, ValueError):
        pass
    return rss, pss


class TreeSampler(threading.Thread):
    """Peaks of the summed RSS and summed PSS over a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = self.max_procs = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            pids = base._tree(self.pid)
            vals = [_rss_pss_kb(p) for p in pids]
            self.peak_rss = max(self.peak_rss, sum(v[0] for v in vals))
            self.peak_pss = max(self.peak_pss, sum(v[1] for v in vals))
            self.max_procs = max(self.max_procs, len(pids))
            self.stop.wait(self.interval)


@dataclass
class Run:
    wall: float
    cpu: float  # user + sys of the whole tree
    max_rss_kb: int  # ru_maxrss of the largest single process
    tree_rss_kb: int  # peak of the summed RSS over the tree (counts shared pages once per process)
    tree_pss_kb: int  # peak of the summed PSS over the tree
    foreign: float  # mean cores used by other processes meanwhile
    procs: int = 0
    ok: int | None = None
    failed: int = 0
    inner: float | None = None
    out_bytes: int = 0
    error: str = ""  # the command failed: the end of its output


def measure(cmd: list[str], env: dict | None = None, stdout_path: Path | None = None,
            cwd: Path | None = None, check: bool = True, sample_memory: bool = True) -> tuple[Run, str]:
    """Run cmd under /usr/bin/time -v (the wrapper is excluded from the sampled tree's RSS by
    sampling from its child), sample the tree unless `sample_memory` is off, return the Run and
    its stdout. Sampling reads every process's page tables and costs a two-process ingest ~8 %
    of its time: the ingest phase times unsampled runs and samples one extra run per row."""
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
        time_file = tf.name
    use_time = base.TIME_BIN.exists()
    wrapped = [str(base.TIME_BIN), "-v", "-o", time_file, *cmd] if use_time else \
        [sys.executable, "-c", base.RUSAGE_WRAPPER, *cmd]
    out_fh = open(stdout_path, "w") if stdout_path else tempfile.TemporaryFile("w+")
    err_fh = tempfile.TemporaryFile("w+")
    busy0, self0 = base.busy_seconds(), time.process_time()
    started = time.perf_counter()
    proc = subprocess.Popen(wrapped, stdout=out_fh, stderr=err_fh, env=env, cwd=cwd, text=True)
    sampler = TreeSampler(proc.pid)
    if sample_memory:
        sampler.start()
    proc.wait()
    wall = time.perf_counter() - started
    if sample_memory:
        sampler.stop.set()
        sampler.join()
    busy, own = base.busy_seconds() - busy0, time.process_time() - self0
    err_fh.seek(0)
    stderr = err_fh.read()
    err_fh.close()
    stdout = ""
    if not stdout_path:
        out_fh.seek(0)
        stdout = out_fh.read()
    out_fh.close()
    time_text = Path(time_file).read_text() if use_time else stderr
    os.unlink(time_file)
    error = ""
    if proc.returncode != 0:
        error = f"exit {proc.returncode}: " + " ".join((stdout[-600:] + " " + stderr[-600:]).split())
    if proc.returncode != 0 and check:
        raise RuntimeError(f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n"
                           f"{stdout[-2000:]}\n{stderr[-4000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_text)
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", time_text))
    foreign = max(0.0, busy - cpu - own) / wall if wall else 0.0
    # The sampled tree includes the small /usr/bin/time wrapper (~2 MB): negligible.
    return Run(wall, cpu, int(m.group(1)) if m else 0, sampler.peak_rss, sampler.peak_pss, foreign,
               sampler.max_procs - 1, error=error), stdout


def log(msg: str) -> None:
    print(f"[{datetime.now(timezone.utc).strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------------------------
# corpora
# --------------------------------------------------------------------------------------------


def _marker_ok(corpus: Path, n: int, seed: int) -> dict | None:
    """A finished corpus of n reports with this seed (its marker is written last). The generator's
    source may have changed since (other work goes on in this repo): the corpus is still reused,
    and `same_reports` checks that files and mbox hold the same reports."""
    marker = corpus / base.CORPUS_MARKER
    if marker.exists() and (corpus / "ground_truth.json").exists():
        meta = json.loads(marker.read_text())
        if meta.get("reports") == n and meta.get("seed") == seed:
            return meta
    return None


def _generate(out: Path, name: str, n: int, seed: int, tlsrpt: Path, fmt: str, force: bool) -> tuple[Path, dict, list[str] | None, float]:
    """(corpus folder, cached marker or None, the command run or None, seconds): `tlsrpt generate`
    of n reports in one format, unless a finished corpus with the same n, seed and generator is there."""
    corpus = out / name
    meta = None if force else _marker_ok(corpus, n, seed)
    if meta:
        return corpus, meta, None, 0.0
    shutil.rmtree(corpus, ignore_errors=True)
    cmd = [str(tlsrpt), "generate", "--reports", str(n), "--formats", fmt, "--seed", str(seed), str(corpus)]
    started = time.perf_counter()
    base.run(cmd, stdout=subprocess.DEVNULL)
    return corpus, {}, cmd, round(time.perf_counter() - started, 1)


def _finish(corpus: Path, meta: dict) -> tuple[Path, dict]:
    (corpus / base.CORPUS_MARKER).write_text(json.dumps(meta, indent=2))
    return corpus, meta


def ensure_files(out: Path, n: int, seed: int, tlsrpt: Path, force: bool = False) -> tuple[Path, dict]:
    """One .json.gz per report: `tlsrpt generate --reports n --formats files` (the same folder and
    marker as benchmarks/ingest_vs_parsedmarc.py, so either reuses the other's corpus)."""
    corpus, cached, cmd, seconds = _generate(out, f"corpus-n{n}-seed{seed}", n, seed, tlsrpt, "files", force)
    if cmd is None:
        return corpus, cached
    files = sorted((corpus / "files").rglob("*.json.gz"))
    raw = sum(len(gzip.decompress(p.read_bytes())) for p in files)
    return _finish(corpus, {
        "reports": n, "seed": seed, "generator": base.generator_digest(), "files": len(files),
        "gz_bytes": sum(p.stat().st_size for p in files), "json_bytes": raw, "command": " ".join(cmd),
        "generate_seconds": seconds})


def ensure_mbox(out: Path, n: int, seed: int, tlsrpt: Path, force: bool = False) -> tuple[Path, dict]:
    """The same n reports as one mbox (`--formats mbox` alone gives every report a message)."""
    corpus, cached, cmd, seconds = _generate(out, f"corpus-n{n}-seed{seed}-mbox", n, seed, tlsrpt, "mbox", force)
    if cmd is None:
        return corpus, cached
    path = corpus / "mbox" / "reports.mbox"
    return _finish(corpus, {
        "reports": n, "seed": seed, "generator": base.generator_digest(), "path": str(path),
        "bytes": path.stat().st_size, "command": " ".join(cmd), "generate_seconds": seconds})


def same_reports(a: Path, b: Path) -> bool:
    """Do two corpora hold the same reports? Their ground truths (sessions per type, reports per
    reporter, ...) must agree once the per-format counts are set aside."""
    def truth(p: Path) -> dict:
        d = json.loads((p / "ground_truth.json").read_text())
        for k in ("files", "both_forms"):
            d.pop(k, None)
        return d
    return truth(a) == truth(b)


def ensure_pair(out: Path, n: int, seed: int, tlsrpt: Path) -> tuple[Path, dict, Path, dict, bool]:
    files_dir, files_meta = ensure_files(out, n, seed, tlsrpt)
    mbox_dir, mbox_meta = ensure_mbox(out, n, seed, tlsrpt)
    same = same_reports(files_dir, mbox_dir)
    if not same:  # made by different generator versions: remake the mbox, then if need be both
        log(f"{n:,}: the files and the mbox hold different reports (generator changed): regenerating")
        mbox_dir, mbox_meta = ensure_mbox(out, n, seed, tlsrpt, force=True)
        same = same_reports(files_dir, mbox_dir)
        if not same:
            files_dir, files_meta = ensure_files(out, n, seed, tlsrpt, force=True)
            same = same_reports(files_dir, mbox_dir)
    return files_dir, files_meta, mbox_dir, mbox_meta, same


def corpus_domains(n: int, seed: int) -> int:
    """How many policy domains `tlsrpt generate --reports n` (30 days) grows the world to."""
    from pipeline.generate.corpus import DEFAULT_START, _size_for
    from pipeline.generate.world import make_days

    return _size_for(seed, 3, make_days(DEFAULT_START, 30), n)[0]


def ensure_day(out: Path, n: int, seed: int) -> tuple[Path, dict]:
    """One more day (day 31, 2026-01-31) of the same world as the n-report corpus: same seed,
    same number of domains, every report of that day. `tlsrpt generate` has no --start option,
    so this calls the generator it runs (pipeline.generate.write_corpus) with start = day 31."""
    corpus = out / f"corpus-n{n}-seed{seed}-day31"
    marker = corpus / base.CORPUS_MARKER
    gen = base.generator_digest()
    if marker.exists():
        meta = json.loads(marker.read_text())
        if meta.get("base_reports") == n and meta.get("seed") == seed:
            return corpus, meta
    from pipeline.generate import DEFAULT_START, write_corpus

    shutil.rmtree(corpus, ignore_errors=True)
    domains = corpus_domains(n, seed)
    start = DEFAULT_START + timedelta(days=30)
    started = time.perf_counter()
    summary = write_corpus(corpus, domains=domains, days=1, seed=seed, start=start, formats=("files",))
    files = list((corpus / "files").rglob("*.json.gz"))
    meta = {"base_reports": n, "seed": seed, "generator": gen, "domains": domains, "start": start.isoformat(),
            "reports": summary.reports, "files": len(files), "gz_bytes": sum(p.stat().st_size for p in files),
            "command": f"python -c 'from pipeline.generate import write_corpus; write_corpus(OUT, domains={domains}, "
                       f"days=1, seed={seed}, start=date({start.year}, {start.month}, {start.day}), formats=(\"files\",))'",
            "generate_seconds": round(time.perf_counter() - started, 1)}
    marker.write_text(json.dumps(meta, indent=2))
    return corpus, meta


# --------------------------------------------------------------------------------------------
# worker modes (run as `python -m benchmarks.suite _mode ...`)
# --------------------------------------------------------------------------------------------


def worker_marts(db_copy: str, repeat: int) -> None:
    """On a copy of the warehouse: the full rebuild of every SQL model as `tlsrpt ingest` runs it
    when anything changed (`sql_models.build_all`: every model in one transaction, then the
    checkpoint), split in those two parts; then `refresh_all` once more with nothing changed (the
    pipeline skips unchanged models where the code supports it); then each model's `create or
    replace table` alone, in build order, each in its own transaction."""
    import duckdb

    from pipeline.settings import Settings
    from pipeline.transform import sql_models as sm

    settings = Settings(data_dir=Path(db_copy).parent)
    assert settings.db_path == Path(db_copy).absolute(), (settings.db_path, db_copy)
    models = sm.load_models()
    order = sm.build_order(models)
    errors: dict[str, str] = {}
    kwargs = {}
    if "thresholds" in inspect.signature(sm.build_all).parameters and hasattr(sm, "load_thresholds"):
        kwargs["thresholds"] = sm.load_thresholds(settings.data_dir)
    whole: list[float] = []
    split: dict[str, list[float]] = {"build_all": [], "checkpoint": []}
    con = duckdb.connect(db_copy)
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            sm.build_all(con, models, **kwargs)  # forced: every model, whatever changed
            t1 = time.perf_counter()
            con.execute("checkpoint")
            t2 = time.perf_counter()
            whole.append(t2 - t0)
            split["build_all"].append(t1 - t0)
            split["checkpoint"].append(t2 - t1)
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
    con = duckdb.connect(db_copy)
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
    print(json.dumps({"whole": whole, "order": order, "per": per, "rows": rows, "errors": errors, "split": split,
                      "refresh_unchanged": unchanged}))


def _dashboard_calls(snap: str, data_dir: Path):
    """(name, thunk) for every query function of app/data.py that reads the snapshot."""
    import duckdb

    from app import data

    data.run = data.run.__wrapped__  # bypass st.cache_data: every call goes to the snapshot
    con = duckdb.connect(snap, read_only=True)
    first, last = con.execute("select min(report_date), max(report_date) from marts.daily_domain_sessions").fetchone()
    key = con.execute("select report_key from main.reports order by report_key limit 1").fetchone()[0]
    con.close()
    default = data.Filters((), max(first, last - timedelta(days=29)), last, None, False)
    values = {"f": default, "snap": snap, "search": "", "outcome": None, "report_key": key}
    calls, skipped = [], []

    def guess(pname: str, annotation) -> tuple[bool, object]:
        """A value for an argument the suite does not know: None when the type allows it (a filter
        left open), else a value of the column of that name in the snapshot (e.g. problem_id -> a
        row of detect.problems)."""
        if "None" in str(annotation) or "Optional" in str(annotation):
            return True, None  # a filter left open, as the page starts
        con = duckdb.connect(snap, read_only=True)
        try:
            found = con.execute(
                "select schema_name, table_name from duckdb_columns() where column_name = ? "
                "order by schema_name = 'marts' desc, schema_name = 'main' desc limit 1", [pname]).fetchone()
            if found:
                row = con.execute(f'select "{pname}" from {found[0]}.{found[1]} '
                                  f'where "{pname}" is not null limit 1').fetchone()
                if row:
                    return True, row[0]
        finally:
            con.close()
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
    from pipeline.settings import Settings
    from pipeline.store import snapshot

    snap = snapshot.current(Settings(data_dir=Path(data_dir)))
    if snap is None:
        print(json.dumps({"error": f"no published snapshot under {data_dir} (the models failed?)",
                          "queries": {}}))
        return
    calls, skipped, window = _dashboard_calls(str(snap), Path(data_dir))
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
    print(json.dumps({"queries": out, "skipped": skipped, "window": window, "snapshot": str(snap),
                      "snapshot_bytes": Path(snap).stat().st_size}))


# --------------------------------------------------------------------------------------------
# the suite
# --------------------------------------------------------------------------------------------


class Suite:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.out = args.out.absolute()
        self.mode = "quick" if args.quick else "full"
        self.state_file = self.out / f"suite-{self.mode}.json"
        self.work = self.out / "suite"  # kept warehouses and scratch data dirs
        self.tlsrpt = REPO / ".venv" / "bin" / "tlsrpt"
        self.py = REPO / ".venv" / "bin" / "python"
        self.env = {k: v for k, v in os.environ.items() if k not in ("TLSRPT_DATA_DIR", "TLSRPT_WORKERS")}
        self.state: dict = {"sizes": {}, "phases": {}}
        if self.state_file.exists() and (args.only or args.render_only):
            self.state = json.loads(self.state_file.read_text())
        self.sizes = args.sizes
        self.largest = max(self.sizes)

    # ---- bookkeeping -----------------------------------------------------------------------

    def save(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(self.state, indent=1, default=str))
        from benchmarks import suite_report

        text, svg = suite_report.render(self.state, self.args)
        self.args.results.parent.mkdir(parents=True, exist_ok=True)
        self.args.results.write_text(text)
        if svg:
            self.args.chart.write_text(svg)
        log(f"wrote {base.rel(str(self.args.results))}")

    def quiet(self) -> None:
        if self.args.max_wait_quiet > 0:
            base.wait_quiet(self.args.max_wait_quiet)

    def repeats(self, n: int) -> int:
        return self.args.repeat if n < 1_000_000 else self.args.repeat_large

    def ours(self, data_dir: Path, inputs: list[Path], workers: int | None = None,
             options: tuple[str, ...] = (), sample_memory: bool = True) -> tuple[Run, dict]:
        cmd = [str(self.tlsrpt), "ingest", *options] + (["--workers", str(workers)] if workers else []) + \
              ["--data-dir", str(data_dir), *map(str, inputs)]
        self.quiet()
        r, stdout = measure(cmd, env=self.env, check=False, sample_memory=sample_memory)
        if r.error:
            log(f"FAILED: {' '.join(cmd)}\n  {r.error}")
        m = base._OURS_LINE.search(stdout)
        if not m:
            raise RuntimeError(f"unexpected `tlsrpt ingest` output:\n{stdout}\n{r.error}")
        inputs_n, secs, loaded, dup, quar = m.groups()
        r.ok, r.failed, r.inner = int(loaded), int(dup) + int(quar), float(secs)
        return r, {"inputs": int(inputs_n), "loaded": int(loaded), "duplicates": int(dup), "quarantined": int(quar)}

    # ---- phases ------------------------------------------------------------------------------

    def phase_corpora(self) -> None:
        for n in self.sizes:
            corpus, meta, mbox_dir, mbox_meta, same = ensure_pair(self.out, n, self.args.seed, self.tlsrpt)
            s = self.state["sizes"].setdefault(str(n), {})
            s["files_meta"], s["mbox_meta"], s["same_reports"] = meta, mbox_meta, same
            s["corpus"] = str(corpus)
            log(f"corpus {n:,}: {meta['files']:,} files {meta['gz_bytes'] / 1e6:,.0f} MB gz; "
                f"mbox {mbox_meta['bytes'] / 1e6:,.0f} MB")
        day_dir, day_meta = ensure_day(self.out, self.largest, self.args.seed)
        self.state["day_meta"] = {**day_meta, "dir": str(day_dir)}
        log(f"day 31 of the {self.largest:,} world: {day_meta['reports']:,} reports, {day_meta['domains']} domains")
        self.state["pd_py"] = str(base.ensure_parsedmarc(self.out))
        self.state["phases"]["corpora"] = True

    def phase_ingest(self) -> None:
        pd_py = self.state["pd_py"]
        for n in self.sizes:
            s = self.state["sizes"][str(n)]
            corpus = Path(s["corpus"])
            files = sorted(str(p) for p in (corpus / "files").rglob("*.json.gz"))
            if len(files) != s["files_meta"]["files"]:
                raise SystemExit(f"{corpus} changed; delete it")
            list_file = corpus / "files.txt"
            list_file.write_text("\n".join(files) + "\n")
            mbox = Path(s["mbox_meta"]["path"])
            log(f"{n:,}: warming the page cache")
            base.warm_cache(files)
            base.warm_cache(files)
            base.warm_cache([str(mbox)])
            del files
            rows = {
                "ours_core": f"{self.tlsrpt} ingest --no-models --data-dir <fresh dir> {corpus}/files",
                "ours_files": f"{self.tlsrpt} ingest --data-dir <fresh dir> {corpus}/files",
                "ours_mbox": f"{self.tlsrpt} ingest --data-dir <fresh dir> {mbox}",
                "parsedmarc": f"{pd_py} {SCRIPT_IVP} _parsedmarc {list_file}",
                "floor1": f"{self.py} {SCRIPT_IVP} _floor {list_file} 1",
                "floor2": f"{self.py} {SCRIPT_IVP} _floor {list_file} 2",
            }
            results: dict[str, list] = {k: [] for k in rows}
            memory: dict[str, dict] = {}
            extra: dict = {}
            keep = self.work / f"warehouse-{n}"

            def run(key: str, i: int | str, sample_memory: bool) -> Run:
                if key.startswith("ours"):
                    d = self.work / f"run-{key}-{n}-{i}"
                    shutil.rmtree(d, ignore_errors=True)
                    r, info = self.ours(d, [mbox] if key == "ours_mbox" else [corpus / "files"],
                                        options=("--no-models",) if key == "ours_core" else (),
                                        sample_memory=sample_memory)
                    r.out_bytes = base.du_bytes(d)
                    extra[key] = info
                    if key == "ours_files" and i == self.repeats(n) - 1:
                        shutil.rmtree(keep, ignore_errors=True)
                        d.rename(keep)  # the warehouse later phases work on
                    else:
                        shutil.rmtree(d, ignore_errors=True)
                    return r
                cmd = [pd_py, SCRIPT_IVP, "_parsedmarc", str(list_file)] if key == "parsedmarc" else \
                      [str(self.py), SCRIPT_IVP, "_floor", str(list_file), key[-1]]
                self.quiet()
                r, stdout = measure(cmd, env=self.env, sample_memory=sample_memory)
                res = json.loads(stdout.strip().splitlines()[-1])
                r.ok, r.failed, r.inner = res["ok"], res["failed"], res["inner_seconds"]
                if res.get("failures"):
                    extra[key] = {"failures": res["failures"]}
                return r

            def save(partial: bool) -> None:
                s["ingest"] = {"rows": results, "memory": memory, "extra": extra, "commands": rows,
                               "warehouse": str(keep)}
                s["ingest"].update({"partial": True} if partial else {"loadavg_after": os.getloadavg()})
                self.state_file.write_text(json.dumps(self.state, indent=1, default=str))

            for i in range(self.repeats(n)):
                for key in rows:
                    r = run(key, i, sample_memory=False)  # timed runs do not sample (see measure)
                    results[key].append(asdict(r))
                    save(partial=True)
                    log(f"{n:,} run {i + 1} {key:<11} {r.wall:7.2f} s  cpu {r.cpu:6.1f}  ok {r.ok}  "
                        f"others {r.foreign:.2f} cores")
            for key in rows:  # memory: one more run per row, sampled, not timed
                r = run(key, "memory", sample_memory=True)
                memory[key] = asdict(r)
                save(partial=True)
                log(f"{n:,} memory {key:<11} tree RSS {r.tree_rss_kb / 1024:6.0f} MiB  "
                    f"PSS {r.tree_pss_kb / 1024:6.0f} MiB")
            save(partial=False)
            self.save()
        self.state["phases"]["ingest"] = True

    def phase_cli(self) -> None:
        n = max(x for x in self.sizes if x <= 100_000)
        s = self.state["sizes"][str(n)]
        corpus = Path(s["corpus"])
        pd_bin = str(Path(self.state["pd_py"]).parent / "parsedmarc")
        runs = []
        reps = 1 if n >= 100_000 else self.args.repeat
        for i in range(reps):
            outdir = self.work / f"parsedmarc-cli-{n}"
            shutil.rmtree(outdir, ignore_errors=True)
            cmd = [pd_bin, "--offline", "-o", str(outdir), "-r", str(corpus / "files")]
            self.quiet()
            r, _ = measure(cmd, env=self.env, stdout_path=self.work / "parsedmarc-cli.stdout")
            try:
                tls = json.loads((outdir / "smtp_tls.json").read_text())
                r.ok = len(tls)
            except (OSError, ValueError):
                r.ok = None
            runs.append(asdict(r))
            log(f"parsedmarc CLI {n:,}: {r.wall:.1f} s, {r.ok} smtp_tls reports written")
            shutil.rmtree(outdir, ignore_errors=True)
        self.state["cli"] = {"size": n, "runs": runs,
                             "command": f"{pd_bin} --offline -o <dir> -r {corpus}/files  (stdout to a file)"}
        self.state["phases"]["cli"] = True
        self.save()

    def phase_incremental(self) -> None:
        n = self.largest
        wh = Path(self.state["sizes"][str(n)]["ingest"]["warehouse"])
        day = Path(self.state["day_meta"]["dir"])
        reps = self.args.repeat
        empty = self.work / "empty-inbox"
        shutil.rmtree(empty, ignore_errors=True)
        empty.mkdir(parents=True)
        res: dict = {"size": n, "ingest_empty": [], "run_empty": [], "day_alone": [], "day_on_top": []}
        base.warm_cache([str(p) for p in (day / "files").rglob("*.json.gz")])
        # a copy of the warehouse for every "on top" run, made before the empty runs touch it
        for i in range(reps):
            r, info = self.ours(wh, [empty])
            res["ingest_empty"].append(asdict(r))
            log(f"nothing new, ingest (on {n:,}): {r.wall:.2f} s  {info}")
        for i in range(reps):
            self.quiet()
            r, stdout = measure([str(self.tlsrpt), "run", "--data-dir", str(wh)], env=self.env, check=False)
            if r.error:
                log(f"FAILED: tlsrpt run\n  {r.error}")
            res["run_empty"].append(asdict(r))
            log(f"nothing new, run (on {n:,}): {r.wall:.2f} s")
        for i in range(reps):
            d = self.work / f"day-alone-{i}"
            shutil.rmtree(d, ignore_errors=True)
            r, info = self.ours(d, [day / "files"])
            res["day_alone"].append(asdict(r))
            res["day_alone_info"] = info
            shutil.rmtree(d, ignore_errors=True)
            log(f"day alone: {r.wall:.2f} s {info}")
            d = self.work / f"day-on-top-{i}"
            shutil.rmtree(d, ignore_errors=True)
            t0 = time.perf_counter()
            shutil.copytree(wh, d, symlinks=True)
            copy_s = time.perf_counter() - t0
            r, info = self.ours(d, [day / "files"])
            res["day_on_top"].append(asdict(r))
            res["day_on_top_info"] = info
            res["copy_seconds"] = copy_s
            shutil.rmtree(d, ignore_errors=True)
            log(f"day on top of {n:,}: {r.wall:.2f} s {info} (copy of the warehouse took {copy_s:.1f} s, not counted)")
        self.startup(res)
        res["warehouse_bytes"] = base.du_bytes(wh)
        res["db_bytes"] = (wh / "warehouse.duckdb").stat().st_size
        self.state["incremental"] = res
        self.state["phases"]["incremental"] = True
        self.save()

    def startup(self, res: dict) -> None:
        """Fixed costs for reference: the CLI's start-up and loading the Dagster definitions."""
        for key, cmd in (("startup_cli", [str(self.tlsrpt), "--help"]),
                         ("startup_dagster", [str(self.py), "-c", "import assets.definitions"])):
            res[key] = []
            for _ in range(self.args.repeat):
                self.quiet()
                r, _ = measure(cmd, env=self.env, cwd=REPO)
                res[key].append(asdict(r))
            log(f"{key}: {statistics.median(x['wall'] for x in res[key]):.2f} s")

    def phase_startup(self) -> None:
        self.startup(self.state.setdefault("incremental", {}))
        self.state["phases"]["startup"] = True
        self.save()

    def phase_marts(self) -> None:
        n = self.largest
        wh = Path(self.state["sizes"][str(n)]["ingest"]["warehouse"])
        scratch = self.work / "marts"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        db = scratch / "warehouse.duckdb"
        shutil.copyfile(wh / "warehouse.duckdb", db)
        self.quiet()
        r, stdout = measure([str(self.py), "-m", "benchmarks.suite", "_marts", str(db), str(self.args.repeat)],
                            env=self.env, cwd=REPO)
        res = json.loads(stdout.strip().splitlines()[-1])
        res["size"] = n
        res["process"] = asdict(r)
        self.state["marts"] = res
        shutil.rmtree(scratch, ignore_errors=True)
        log(f"marts at {n:,}: whole {statistics.median(res['whole']):.2f} s")
        self.state["phases"]["marts"] = True
        self.save()

    def phase_dashboard(self) -> None:
        out = {}
        for n in sorted({x for x in self.sizes if x >= 100_000} | {self.largest}):
            wh = self.state["sizes"][str(n)]["ingest"]["warehouse"]
            self.quiet()
            r, stdout = measure([str(self.py), "-m", "benchmarks.suite", "_dashboard", wh,
                                 str(self.args.dashboard_repeat)], env=self.env, cwd=REPO)
            res = json.loads(stdout.strip().splitlines()[-1])
            res["foreign"] = r.foreign
            if res.get("error"):
                log(f"dashboard at {n:,}: {res['error']}")
                self.state.setdefault("notes", []).append(f"dashboard at {n:,}: {res['error']}")
                continue
            out[str(n)] = res
            worst = max(statistics.median(q["times"]) for q in res["queries"].values())
            log(f"dashboard at {n:,}: {len(res['queries'])} queries, slowest median {worst * 1000:.0f} ms")
        self.state["dashboard"] = out
        self.state["phases"]["dashboard"] = True
        self.save()

    def phase_profile(self) -> None:
        """cProfile of `tlsrpt ingest --workers 1` (one process does everything) on the files at
        100k, and, with --profile-mbox N, on the mbox of N reports."""
        n = max(x for x in self.sizes if x <= 100_000)
        s = self.state["sizes"][str(n)]
        corpus = Path(s["corpus"])
        jobs = [("profile", n, corpus / "files")]
        if self.args.profile_mbox:
            m = self.args.profile_mbox
            mbox_dir, _ = ensure_mbox(self.out, m, self.args.seed, self.tlsrpt)
            jobs.append(("profile_mbox", m, mbox_dir / "mbox" / "reports.mbox"))
        for key, size, source in jobs:
            # warm the page cache: later phases write GBs, which may have pushed these files out
            base.warm_cache([str(p) for p in Path(source).rglob("*") if p.is_file()] if Path(source).is_dir()
                            else [str(source)])
            d = self.work / "profile-run"
            shutil.rmtree(d, ignore_errors=True)
            prof = self.work / f"ingest-workers1-{key}-{size}.prof"
            cmd = [str(self.py), "-m", "cProfile", "-o", str(prof), "-m", "pipeline", "ingest", "--workers", "1",
                   "--data-dir", str(d), str(source)]
            self.quiet()
            r, stdout = measure(cmd, env=self.env, cwd=REPO)
            shutil.rmtree(d, ignore_errors=True)
            plain, _ = self.ours(self.work / "profile-plain", [source], workers=1)
            shutil.rmtree(self.work / "profile-plain", ignore_errors=True)
            self.state[key] = {"size": size, "wall_profiled": r.wall, "wall_plain_workers1": plain.wall,
                               "cpu_plain_workers1": plain.cpu, "foreign": max(r.foreign, plain.foreign),
                               "prof": str(prof), "command": " ".join(cmd).replace(str(d), "<fresh dir>"),
                               **summarise_profile(prof, size)}
            log(f"{key} at {size:,}: {r.wall:.1f} s profiled, {plain.wall:.1f} s plain (--workers 1)")
        self.state["phases"]["profile"] = True
        self.save()

    def phase_rebuild(self) -> None:
        n = self.largest
        wh = Path(self.state["sizes"][str(n)]["ingest"]["warehouse"])
        d = self.work / "rebuild"
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(wh, d, symlinks=True)
        self.quiet()
        r, stdout = measure([str(self.tlsrpt), "rebuild", "--data-dir", str(d)], env=self.env, check=False)
        m = base._OURS_LINE.search(stdout)
        if m:
            r.ok = int(m.group(3))
        shutil.rmtree(d, ignore_errors=True)
        self.state["rebuild"] = {"size": n, "run": asdict(r)}
        log(f"tlsrpt rebuild at {n:,}: {r.wall:.1f} s")
        self.state["phases"]["rebuild"] = True
        self.save()

    def machine(self) -> None:
        vers = subprocess.run([str(self.py), "-c", "import platform, duckdb, polars; "
                               "print(platform.python_version(), duckdb.__version__, polars.__version__)"],
                              capture_output=True, text=True, check=True).stdout.split()
        pd_ver = subprocess.run([self.state["pd_py"], "-c", "import platform; print(platform.python_version())"],
                                capture_output=True, text=True).stdout.strip() if self.state.get("pd_py") else "?"
        mem = 0
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1])
        self.state["machine"] = {
            "cpu": base.cpu_model(), "cores": os.cpu_count(), "ram_gib": round(mem / GIB, 1),
            "os": f"{platform.system()} {platform.release()}", "python": vers[0], "duckdb": vers[1],
            "polars": vers[2], "parsedmarc": PARSEDMARC_VERSION, "parsedmarc_python": pd_ver,
            "git": base.git_state(), "loadavg_start": os.getloadavg(),
        }

    def main(self) -> None:
        if self.args.render_only:
            self.save()
            return
        phases = self.args.only or [p for p in PHASES if p not in self.args.skip]
        if "corpora" not in phases and not self.state["phases"].get("corpora"):
            phases = ["corpora", *phases]
        self.work.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        command = " ".join(["bash scripts/bench.sh", *sys.argv[1:]])
        if self.args.only:  # a partial re-run: keep the full run's settings, note the re-run
            self.state.setdefault("reruns", []).append(
                {"command": command, "phases": phases, "sizes": self.sizes, "git": base.git_state(),
                 "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")})
        else:
            self.state["started"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            self.state["command"] = command
            self.state["mode"] = self.mode
            self.state["sizes_asked"] = self.sizes
            self.state["repeat"], self.state["repeat_large"] = self.args.repeat, self.args.repeat_large
            self.state["dashboard_repeat"] = self.args.dashboard_repeat
            self.state["max_wait_quiet"] = self.args.max_wait_quiet
        log(f"suite ({self.mode}): sizes {self.sizes}, phases {phases}")
        for phase in phases:
            if phase == "corpora" or "machine" not in self.state:
                if phase == "corpora":
                    self.phase_corpora()
                self.machine()
            if phase != "corpora":
                t0 = time.perf_counter()
                getattr(self, f"phase_{phase}")()
                if not self.args.only:
                    self.state.setdefault("phase_seconds", {})[phase] = round(time.perf_counter() - t0, 1)
            else:
                self.state.setdefault("phase_seconds", {})["corpora"] = round(time.perf_counter() - started, 1)
        if self.args.only:
            self.state["reruns"][-1]["seconds"] = round(time.perf_counter() - started, 1)
            self.state["reruns"][-1]["loadavg_end"] = os.getloadavg()
        else:
            self.state["machine"]["loadavg_end"] = os.getloadavg()
            self.state["finished"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            self.state["total_seconds"] = round(time.perf_counter() - started, 1)
        self.save()
        log(f"suite done in {time.perf_counter() - started:,.0f} s")


def summarise_profile(prof: Path, n: int) -> dict:
    """Top functions by own time, and own time grouped by where the code lives, in µs per report."""
    st = pstats.Stats(str(prof))
    total = st.total_tt
    funcs = []
    groups: dict[str, float] = {}
    for (filename, line, name), (cc, nc, tt, ct, callers) in st.stats.items():
        funcs.append((tt, ct, nc, filename, line, name))
        groups[_group(filename, name)] = groups.get(_group(filename, name), 0.0) + tt
    funcs.sort(reverse=True)
    top = [{"func": f"{_short(f)}:{line}({name})", "own_us": tt / n * 1e6, "cum_us": ct / n * 1e6, "calls": nc}
           for tt, ct, nc, f, line, name in funcs[:20]]
    cum = sorted(((ct, f, line, name) for tt, ct, nc, f, line, name in funcs
                  if "pipeline/" in f or "app/" in f), reverse=True)
    cum_top = [{"func": f"{_short(f)}:{line}({name})", "cum_us": ct / n * 1e6} for ct, f, line, name in cum[:20]]
    steps = []
    for label, fname, func in PROFILE_STEPS:
        ct = sum(v[3] for (f, _, name), v in st.stats.items() if f.endswith(fname) and name == func)
        if ct / n * 1e6 >= 0.05:
            steps.append({"step": label, "func": f"{fname}:{func}", "cum_us": ct / n * 1e6})
    rest = total - sum(x["cum_us"] for x in steps) * n / 1e6
    steps.append({"step": "everything else: interpreter start-up, imports, CLI, walking the folder",
                  "func": "", "cum_us": rest / n * 1e6})
    return {"total_us": total / n * 1e6, "top_own": top, "top_cum": cum_top, "steps": steps,
            "groups": sorted(({"group": g, "own_us": t / n * 1e6} for g, t in groups.items()),
                             key=lambda x: -x["own_us"])[:20]}


PROFILE_STEPS = (  # disjoint steps of one `tlsrpt ingest --workers 1` run, by the function that does each
    ("replay unfinished packs", "pipeline/ingest.py", "replay_pending"),
    ("read, sniff, decode, parse, validate, flatten, hash (per input)", "pipeline/parse/worker.py", "process_chunk"),
    ("decide a batch, write its pack + fsync", "pipeline/store/batch.py", "prepare_batch"),
    ("insert a batch: DuckDB inserts, commit", "pipeline/store/batch.py", "write_batch"),
    ("Parquet export", "pipeline/store/parquet_export.py", "export_dirty"),
    ("rebuild the SQL models (marts)", "pipeline/transform/sql_models.py", "refresh_all"),
    ("publish the dashboard snapshot (copy of the DuckDB file)", "pipeline/store/snapshot.py", "publish"),
)


def _short(filename: str) -> str:
    filename = filename.replace(str(REPO) + "/", "")
    m = re.search(r"site-packages/(.*)", filename)
    return m.group(1) if m else filename.replace(sys.base_prefix + "/lib/python3.11/", "stdlib/")


def _group(filename: str, name: str) -> str:
    f = _short(filename)
    if f.startswith("pipeline/") or f.startswith("assets/") or f.startswith("app/"):
        return f
    if f == "~":  # C builtins: name them
        m = re.search(r"method '(\w+)' of '([\w.]+)'", name)
        if m:
            return f"builtin {m.group(2)}.{m.group(1)}"
        return f"builtin {name}"
    top = f.split("/")[0]
    if top == "stdlib":
        return "stdlib/" + f.split("/")[1]
    return top


def parse_sizes(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        mult = 1
        if part.endswith("k"):
            part, mult = part[:-1], 1000
        elif part.endswith("m"):
            part, mult = part[:-1], 1_000_000
        out.append(int(float(part) * mult))
    return sorted(out)


def parse_sizes_one(text: str) -> int:
    return parse_sizes(text)[0]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="bash scripts/bench.sh", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="10k reports only (a few minutes), results to bench-out/suite-quick/: for developing")
    ap.add_argument("--sizes", type=parse_sizes, default=None, help="corpus sizes (default 10k,100k,1M; quick: 10k)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="runs per row below 1M (default 3)")
    ap.add_argument("--repeat-large", type=int, default=2, help="runs per row at 1M and above (default 2)")
    ap.add_argument("--dashboard-repeat", type=int, default=20, help="timed calls per dashboard query (default 20)")
    ap.add_argument("--out", type=Path, default=REPO / "bench-out")
    ap.add_argument("--results", type=Path, default=None, help="results page (default docs/benchmarks.md)")
    ap.add_argument("--chart", type=Path, default=None, help="scaling chart (default docs/benchmarks-scaling.svg)")
    ap.add_argument("--max-wait-quiet", type=float, default=20.0,
                    help="before each timed run wait up to S s for other processes to use < 0.15 cores "
                         "(default 20; 0 = never wait). The load seen is recorded either way.")
    ap.add_argument("--only", type=lambda t: t.split(","), default=None,
                    help=f"run only these phases ({','.join(PHASES)}), keeping the other figures")
    ap.add_argument("--skip", type=lambda t: t.split(","), default=[], help="phases to skip")
    ap.add_argument("--profile-mbox", type=parse_sizes_one, default=10_000,
                    help="also profile the ingest of an mbox of this many reports (default 10k; 0 = no)")
    ap.add_argument("--render-only", action="store_true", help="rewrite the page from the kept figures")
    args = ap.parse_args(argv)
    if args.sizes is None:
        args.sizes = [10_000] if args.quick else [10_000, 100_000, 1_000_000]
    quick_dir = args.out.absolute() / "suite-quick"
    if args.results is None:
        args.results = quick_dir / "benchmarks.md" if args.quick else REPO / "docs" / "benchmarks.md"
    if args.chart is None:
        args.chart = args.results.parent / "benchmarks-scaling.svg"
    for p in (args.only or []) + args.skip:
        if p not in PHASES + EXTRA_PHASES:
            ap.error(f"unknown phase {p!r}; phases: {', '.join(PHASES)}")
    Suite(args).main()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_marts":
        worker_marts(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_dashboard":
        worker_dashboard(sys.argv[2], int(sys.argv[3]))
    else:
        main()
