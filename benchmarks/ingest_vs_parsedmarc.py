"""Side-by-side ingest benchmark: `tlsrpt ingest` vs parsedmarc's per-file TLS parser vs a floor.

    .venv/bin/python benchmarks/ingest_vs_parsedmarc.py [--reports 100000] [--repeat 3] [--out bench-out]

One run, the same files for every row (a corpus written by `tlsrpt generate --formats files`):

  ourscore    `tlsrpt ingest --no-models --data-dir <fresh dir> <corpus>/files`: sniff, gunzip, parse,
              validate, dedupe, land the raw bytes, write the DuckDB tables and the Parquet export.
  ours        the same without --no-models: also rebuilds the SQL models and publishes the
              dashboard snapshot, as `tlsrpt ingest` does by default.
  parsedmarc  parsedmarc's `parse_report_file(path, offline=True)` in a loop, one process (what its
              CLI does per file with the default n_procs=1); parse only, nothing is stored. It runs
              from its own throw-away venv under --out, never from the project's.
  floor       read + gzip.decompress + json.loads of every file (1 process, and 2 processes).

Every row is a whole process (start-up and imports included), timed from outside, repeated
`--repeat` times in interleaved order after the page cache is warmed; the table shows the median
and min-max. Memory (PSS of the whole tree) is sampled in one extra, untimed run per row. Everything written (corpus, parsedmarc venv, data dirs) goes under --out.

The script is also its own worker: `_floor` and `_parsedmarc` modes (stdlib only at module level,
so the parsedmarc venv's Python can run this file).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PARSEDMARC_VERSION = "11.1.0"
TIME_BIN = Path("/usr/bin/time")
CORPUS_MARKER = "benchmark-corpus.json"

# --------------------------------------------------------------------------------------------
# worker modes (run in a child process; stdlib only)
# --------------------------------------------------------------------------------------------


def _read_list(list_file: str) -> list[str]:
    with open(list_file, encoding="utf-8") as fh:
        return [line.rstrip("\n") for line in fh if line.strip()]


def _floor_chunk(paths: list[str]) -> tuple[int, int]:
    ok = bad = 0
    for path in paths:
        try:
            with open(path, "rb") as fh:
                json.loads(gzip.decompress(fh.read()))
            ok += 1
        except Exception:  # noqa: BLE001 - a floor counts, it does not judge
            bad += 1
    return ok, bad


def worker_floor(list_file: str, procs: int) -> None:
    started = time.perf_counter()
    paths = _read_list(list_file)
    if procs <= 1:
        ok, bad = _floor_chunk(paths)
    else:
        import multiprocessing

        chunks = [paths[i:i + 500] for i in range(0, len(paths), 500)]
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            counts = pool.map(_floor_chunk, chunks, chunksize=1)
        ok, bad = sum(c[0] for c in counts), sum(c[1] for c in counts)
    print(json.dumps({"ok": ok, "failed": bad, "inner_seconds": time.perf_counter() - started}))


def worker_parsedmarc(list_file: str) -> None:
    import logging
    from collections import Counter

    import_started = time.perf_counter()
    import parsedmarc

    logging.getLogger("parsedmarc").setLevel(logging.CRITICAL)  # its CLI would log each failure
    started = time.perf_counter()
    paths = _read_list(list_file)
    ok = 0
    failures: Counter[str] = Counter()
    for path in paths:
        try:
            result = parsedmarc.parse_report_file(path, offline=True)
        except Exception as exc:  # noqa: BLE001 - its CLI logs and goes on, so do we
            failures[str(exc)[:120]] += 1
            continue
        if result.get("report_type") == "smtp_tls":
            ok += 1
        else:
            failures[f"parsed as {result.get('report_type')}"] += 1
    print(json.dumps({
        "ok": ok, "failed": sum(failures.values()), "failures": failures.most_common(5),
        "inner_seconds": time.perf_counter() - started,
        "import_seconds": started - import_started,
    }))


# --------------------------------------------------------------------------------------------
# measuring a process tree
# --------------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    kids.extend(int(k) for k in fh.read().split())
            except OSError:
                pass
    except OSError:
        pass
    return kids


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(_children(p))
    return out


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class TreeSampler(threading.Thread):
    """Peak of the summed PSS of a process and its descendants, sampled every `interval` s.

    PSS (not RSS) so that the copy-on-write pages a forked worker shares with its parent are
    counted once, not once per process."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            total = sum(_pss_kb(p) for p in _tree(self.pid))
            self.peak_kb = max(self.peak_kb, total)
            self.stop.wait(self.interval)


@dataclass
class Sample:
    wall: float
    max_rss_kb: int  # largest single process of the tree (wait4 ru_maxrss, via /usr/bin/time -v)
    tree_pss_kb: int  # peak of the sampled sum over the tree
    stdout: str
    cpu: float = 0.0  # user + system seconds of the measured tree
    foreign_cores: float = 0.0  # mean CPU (in cores) used meanwhile by processes outside the tree


def busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine since boot (all cores, /proc/stat)."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return 0.0
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wait_quiet(max_wait: float, threshold: float = 0.15) -> float:
    """Wait (up to max_wait s) for a second in which the machine's other work uses < threshold cores.

    Returns the load seen last. Other sessions share this machine: timing while they run is noise."""
    deadline = time.monotonic() + max_wait
    warned = False
    while True:
        b0, s0 = busy_seconds(), time.process_time()
        time.sleep(1.0)
        others = busy_seconds() - b0 - (time.process_time() - s0)
        if others < threshold or time.monotonic() >= deadline:
            return others
        if not warned:
            print(f"  waiting for a quiet machine (other processes use {others:.2f} cores)...", flush=True)
            warned = True


RUSAGE_WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[1:])\n"
    "ru = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "sys.stderr.write('Maximum resident set size (kbytes): %d\\n' % ru.ru_maxrss)\n"
    "sys.stderr.write('User time (seconds): %.2f\\nSystem time (seconds): %.2f\\n' % (ru.ru_utime, ru.ru_stime))\n"
    "sys.exit(rc)\n"
)


def measure(cmd: list[str], env: dict[str, str] | None = None, sample_memory: bool = True) -> Sample:
    """Run cmd under /usr/bin/time -v. `sample_memory`: also sample the tree's PSS. Reading
    /proc/PID/smaps_rollup walks a process's page tables: sampling every 0.05 s took ~8 % of
    the CPU a two-process ingest needed (nothing from a one-process parser, whose second core
    is idle), so timed runs do not sample and memory has runs of its own."""
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
        time_file = tf.name
    if TIME_BIN.exists():
        wrapped = [str(TIME_BIN), "-v", "-o", time_file, *cmd]
    else:  # fresh wrapper process: its RUSAGE_CHILDREN is this command's tree only
        wrapped = [sys.executable, "-c", RUSAGE_WRAPPER, *cmd]
    stderr_file = tempfile.TemporaryFile("w+")
    busy0, self0 = busy_seconds(), time.process_time()
    started = time.perf_counter()
    proc = subprocess.Popen(wrapped, stdout=subprocess.PIPE, stderr=stderr_file, env=env, text=True)
    sampler = TreeSampler(proc.pid) if sample_memory else None
    if sampler:
        sampler.start()
    stdout, _ = proc.communicate()
    wall = time.perf_counter() - started
    if sampler:
        sampler.stop.set()
        sampler.join()
    busy, own = busy_seconds() - busy0, time.process_time() - self0
    stderr_file.seek(0)
    stderr = stderr_file.read()
    stderr_file.close()
    time_text = Path(time_file).read_text() if TIME_BIN.exists() else stderr
    os.unlink(time_file)
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{stdout}\n{stderr[-4000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_text)
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", time_text))
    foreign = max(0.0, busy - cpu - own) / wall if wall else 0.0
    return Sample(wall, int(m.group(1)) if m else 0, sampler.peak_kb if sampler else 0, stdout, cpu, foreign)


# --------------------------------------------------------------------------------------------
# set-up: corpus, parsedmarc venv
# --------------------------------------------------------------------------------------------


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    print("$ " + " ".join(str(c) for c in cmd), flush=True)
    try:
        return subprocess.run(cmd, check=True, **kw)
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"command failed ({exc.returncode}): {' '.join(str(c) for c in cmd)}") from None


def generator_digest() -> str:
    """Hash of the generator's source: a corpus from another generator version is not reused."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "pipeline" / "generate").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_corpus(out: Path, reports: int, seed: int, tlsrpt: Path) -> tuple[Path, dict]:
    corpus = out / f"corpus-n{reports}-seed{seed}"
    marker = corpus / CORPUS_MARKER
    generator = generator_digest()
    if marker.exists():
        meta = json.loads(marker.read_text())
        if meta.get("reports") == reports and meta.get("seed") == seed and meta.get("generator") == generator:
            print(f"reusing corpus {corpus} ({meta['files']} files)", flush=True)
            return corpus, meta
        print(f"{corpus} was made by another generator version: writing it again", flush=True)
    help_check = subprocess.run([str(tlsrpt), "generate", "--help"], capture_output=True, text=True)
    if help_check.returncode != 0:
        raise SystemExit(f"`tlsrpt generate` is not available yet:\n{help_check.stderr[-2000:]}")
    shutil.rmtree(corpus, ignore_errors=True)
    cmd = [str(tlsrpt), "generate", "--reports", str(reports), "--formats", "files", "--seed", str(seed), str(corpus)]
    started = time.perf_counter()
    run(cmd, stdout=subprocess.DEVNULL)
    files = sorted(str(p) for p in (corpus / "files").rglob("*.json.gz"))
    if not files:
        raise SystemExit(f"no .json.gz files under {corpus / 'files'}")
    raw = sum(len(gzip.decompress(Path(p).read_bytes())) for p in files)
    meta = {
        "reports": reports, "seed": seed, "generator": generator, "files": len(files),
        "gz_bytes": sum(os.path.getsize(p) for p in files), "json_bytes": raw,
        "command": " ".join(cmd), "generate_seconds": round(time.perf_counter() - started, 1),
    }
    marker.write_text(json.dumps(meta, indent=2))
    return corpus, meta


def ensure_parsedmarc(out: Path) -> Path:
    venv = out / f"parsedmarc-{PARSEDMARC_VERSION}-venv"
    py = venv / "bin" / "python"
    check = [str(py), "-c", "import importlib.metadata as m; print(m.version('parsedmarc'))"]
    if py.exists():
        got = subprocess.run(check, capture_output=True, text=True)
        if got.returncode == 0 and got.stdout.strip() == PARSEDMARC_VERSION:
            print(f"reusing {venv}", flush=True)
            return py
    shutil.rmtree(venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", str(venv)])
    log = out / "parsedmarc-install.log"
    with log.open("w") as fh:
        try:
            run([str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", "-q",
                 f"parsedmarc=={PARSEDMARC_VERSION}"], stdout=fh, stderr=subprocess.STDOUT)
        except subprocess.CalledProcessError:
            raise SystemExit(f"pip install parsedmarc=={PARSEDMARC_VERSION} failed; see {log}") from None
    got = subprocess.run(check, capture_output=True, text=True, check=True)
    if got.stdout.strip() != PARSEDMARC_VERSION:
        raise SystemExit(f"parsedmarc {got.stdout.strip()} installed, wanted {PARSEDMARC_VERSION}")
    return py


def warm_cache(files: list[str]) -> float:
    started = time.perf_counter()
    for path in files:
        with open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# the benchmark
# --------------------------------------------------------------------------------------------


@dataclass
class Row:
    key: str
    label: str
    samples: list[Sample] = field(default_factory=list)
    ok: int | None = None
    failed: int = 0
    inner: list[float] = field(default_factory=list)
    note: str = ""
    command: str = ""
    failures: list = field(default_factory=list)  # most common rejection messages, if any
    memory: Sample | None = None  # the one run that sampled memory (not timed: see measure)

    def median(self) -> float:
        return statistics.median(s.wall for s in self.samples)


OURS = {"ourscore": ["--no-models"], "ours": [], "ours1": ["--workers", "1"]}  # row -> extra ingest options
_OURS_LINE = re.compile(r"(\d+) inputs in ([\d.]+) s .*?: (\d+) loaded, (\d+) duplicate, (\d+) quarantined")


def du_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def rel(text: str) -> str:
    """Paths inside the repo written relative to it, so the results file reads the same anywhere."""
    return text.replace(str(REPO) + "/", "")


def git_state() -> str:
    try:
        sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        # The pages the suite itself writes are no change to the code it measures.
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":!docs/benchmarks.md", ":!docs/benchmarks-scaling.svg"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return sha + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def fmt_kb(kb: int) -> str:
    return f"{kb / 1024:,.0f} MiB" if kb else "n/a"


def render(rows: list[Row], meta: dict, machine: list[str], commands: list[str], repeat: int,
           extra_notes: list[str]) -> str:
    pd_row = next((r for r in rows if r.key == "parsedmarc"), None)
    floor_row = next((r for r in rows if r.key == "floor1"), None)
    n, mb = meta["files"], meta["gz_bytes"] / 1e6
    head = ("| row | wall s, median (min-max) | CPU s (user+sys) | reports/s | MB/s (gz in) "
            "| peak RSS, largest process | peak PSS, whole tree | reports OK | time / parsedmarc | time / floor |")
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        walls = [s.wall for s in r.samples]
        med = r.median()
        ratio_pd = f"{med / pd_row.median():.2f}x" if pd_row else "-"
        ratio_fl = f"{med / floor_row.median():.2f}x" if floor_row else "-"
        ok = "?" if r.ok is None else f"{r.ok:,}" + (f" ({r.failed:,} rejected)" if r.failed else "")
        lines.append(
            f"| {r.label} | {med:.2f} ({min(walls):.2f}-{max(walls):.2f}) "
            f"| {statistics.median(s.cpu for s in r.samples):.1f} | {n / med:,.0f} | {mb / med:,.1f} "
            f"| {fmt_kb(max(s.max_rss_kb for s in r.samples))} | {fmt_kb(r.memory.tree_pss_kb if r.memory else 0)} "
            f"| {ok} | {ratio_pd} | {ratio_fl} |")
    out = [
        "# Ingest benchmark: tlsrpt-warehouse vs parsedmarc",
        "",
        f"Corpus: {n:,} reports (`.json.gz` files), {meta['gz_bytes'] / 1e6:,.1f} MB compressed, "
        f"{meta['json_bytes'] / 1e6:,.1f} MB of JSON; {repeat} runs per row, interleaved, page cache warm.",
        "",
        *lines,
        "",
        "Rows:",
        "",
    ]
    out += [f"- **{r.label}**: {r.note}" for r in rows]
    out += ["", "Notes:", ""] + [f"- {x}" for x in extra_notes]
    out += ["", "Machine:", ""] + [f"- {x}" for x in machine]
    out += ["", "Commands:", "", "```"] + [rel(c) for c in commands] + ["```", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=100_000, help="corpus size (default 100000)")
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per row (default 3)")
    ap.add_argument("--out", type=Path, default=REPO / "bench-out",
                    help="where the corpus, the parsedmarc venv and the data dirs go (default bench-out/)")
    ap.add_argument("--results", type=Path, default=REPO / "benchmarks" / "results" / "ingest_vs_parsedmarc.md",
                    help="markdown results file to write")
    ap.add_argument("--also-workers-1", action="store_true",
                    help="add a row for `tlsrpt ingest --workers 1` (single process, like parsedmarc's default)")
    ap.add_argument("--no-floor-mp", action="store_true", help="skip the 2-process floor row")
    ap.add_argument("--max-wait-quiet", type=float, default=120.0,
                    help="before each run, wait up to this many seconds for other processes to use "
                         "< 0.15 cores (default 120; 0 = do not wait)")
    args = ap.parse_args(argv)

    out = args.out.absolute()
    out.mkdir(parents=True, exist_ok=True)
    venv_bin = Path(sys.executable).parent
    tlsrpt = venv_bin / "tlsrpt"
    if not tlsrpt.exists():
        tlsrpt = REPO / ".venv" / "bin" / "tlsrpt"
    ours_py = tlsrpt.parent / "python"
    script = str(Path(__file__).resolve())

    corpus, meta = ensure_corpus(out, args.reports, args.seed, tlsrpt)
    files = sorted(str(p) for p in (corpus / "files").rglob("*.json.gz"))
    if len(files) != meta["files"]:
        raise SystemExit(f"{corpus} changed: {len(files)} files, marker says {meta['files']}; delete it")
    list_file = corpus / "files.txt"
    list_file.write_text("\n".join(files) + "\n")
    pd_py = ensure_parsedmarc(out)
    runs_dir = out / "runs"
    shutil.rmtree(runs_dir, ignore_errors=True)
    runs_dir.mkdir()

    env = {k: v for k, v in os.environ.items() if k not in ("TLSRPT_DATA_DIR", "TLSRPT_WORKERS")}
    cores = os.cpu_count() or 1
    rows = [
        Row("ourscore", f"ours: `tlsrpt ingest --no-models` ({cores} workers = cores, the default)",
            note="whole `tlsrpt ingest --no-models` process, the spine issue's end to end: walk, sniff, "
                 "gunzip, strict JSON, RFC 8460 validation, dedupe, raw bytes landed + journal (fsync), "
                 "DuckDB core tables, Parquet export, checkpoint. Fresh empty data dir each run.",
            command=f"{tlsrpt} ingest --no-models --data-dir {runs_dir}/ourscore-<run> {corpus}/files"),
        Row("ours", "ours: `tlsrpt ingest` (+ SQL models + dashboard snapshot)",
            note="the same, plus what `tlsrpt ingest` does after it by default: rebuild every SQL model "
                 "(staging, marts, anomaly detection) and publish the dashboard's snapshot.",
            command=f"{tlsrpt} ingest --data-dir {runs_dir}/ours-<run> {corpus}/files"),
    ]
    if args.also_workers_1:
        rows.append(Row("ours1", "ours: `tlsrpt ingest --workers 1`",
                        note="the same, parsing in the main process (no worker pool).",
                        command=f"{tlsrpt} ingest --workers 1 --data-dir {runs_dir}/ours1-<run> {corpus}/files"))
    rows += [
        Row("parsedmarc", f"parsedmarc {PARSEDMARC_VERSION} `parse_report_file` (1 process)",
            note="`parsedmarc.parse_report_file(path, offline=True)` per file in one process, what its CLI "
                 "does per file with its default n_procs=1 (it tries the aggregate-XML parser first, then "
                 "the TLS-RPT JSON one). Parse only: nothing is deduplicated across files or stored.",
            command=f"{pd_py} {script} _parsedmarc {list_file}"),
        Row("floor1", "floor: read + gunzip + json.loads (1 process)",
            note="the least any Python ingest must do: read each file, `gzip.decompress`, `json.loads`.",
            command=f"{ours_py} {script} _floor {list_file} 1"),
    ]
    if not args.no_floor_mp:
        rows.append(Row("floor2", "floor: read + gunzip + json.loads (2 processes)",
                        note="the same split over a 2-process fork pool (chunks of 500 files).",
                        command=f"{ours_py} {script} _floor {list_file} 2"))

    print(f"warming the page cache ({len(files):,} files)...", flush=True)
    warm_cache(files)
    warm_cache(files)
    ours_out_bytes: list[int] = []

    def run(row: Row, i: int | str, sample_memory: bool = False) -> Sample:
        if row.key in OURS:
            data_dir = runs_dir / f"{row.key}-{i}"
            cmd = [str(tlsrpt), "ingest", *OURS[row.key], "--data-dir", str(data_dir), str(corpus / "files")]
        elif row.key == "parsedmarc":
            cmd = [str(pd_py), script, "_parsedmarc", str(list_file)]
        else:
            cmd = [str(ours_py), script, "_floor", str(list_file), "2" if row.key == "floor2" else "1"]
        if args.max_wait_quiet > 0:
            wait_quiet(args.max_wait_quiet)
        sample = measure(cmd, env=env, sample_memory=sample_memory)
        if row.key in OURS:
            m = _OURS_LINE.search(sample.stdout)
            if not m:
                raise SystemExit(f"unexpected `tlsrpt ingest` output:\n{sample.stdout}")
            inputs, secs, loaded, dup, quar = m.groups()
            if int(inputs) != len(files):
                raise SystemExit(f"ingest saw {inputs} inputs, the corpus has {len(files)}")
            row.ok, row.failed = int(loaded), int(dup) + int(quar)
            if not sample_memory:
                row.inner.append(float(secs))
                ours_out_bytes.append(du_bytes(data_dir))
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            res = json.loads(sample.stdout.strip().splitlines()[-1])
            row.ok, row.failed = res["ok"], res["failed"]
            if not sample_memory:
                row.inner.append(res["inner_seconds"])
            row.failures = res.get("failures") or []
        return sample

    for i in range(args.repeat):
        for row in rows:
            sample = run(row, i)
            row.samples.append(sample)
            print(f"run {i + 1}/{args.repeat} {row.key:<10} {sample.wall:7.2f} s  "
                  f"max RSS {fmt_kb(sample.max_rss_kb):>9}  cpu {sample.cpu:6.1f} s  ok {row.ok:,}  "
                  f"others {sample.foreign_cores:.2f} cores", flush=True)
    for row in rows:  # memory: one more run each, sampled, not timed
        row.memory = run(row, "memory", sample_memory=True)
        print(f"memory run {row.key:<10} tree PSS {fmt_kb(row.memory.tree_pss_kb):>9}", flush=True)

    ours_py_ver = subprocess.run([str(ours_py), "-c", "import platform, duckdb; "
                                  "print(platform.python_version(), duckdb.__version__)"],
                                 capture_output=True, text=True, check=True).stdout.split()
    pd_py_ver = subprocess.run([str(pd_py), "-c", "import platform; print(platform.python_version())"],
                               capture_output=True, text=True, check=True).stdout.strip()
    machine = [
        f"CPU: {cpu_model()}, {cores} cores (`os.cpu_count()`), "
        f"{platform.system()} {platform.release()}",
        f"Python {ours_py_ver[0]} (project venv), duckdb {ours_py_ver[1]}; parsedmarc {PARSEDMARC_VERSION} "
        f"on Python {pd_py_ver} in its own venv ({rel(str(pd_py.parent.parent))})",
        f"date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; repo at {git_state()}",
        "CPU used by other processes while a row ran, mean cores over the run, worst run: "
        + "; ".join(f"{r.key} {max(x.foreign_cores for x in r.samples):.2f}" for r in rows)
        + f" (0 = a quiet machine; each run waited up to {args.max_wait_quiet:.0f} s for one)",
    ]
    notes = [
        "Wall time is the whole process from outside (interpreter start-up and imports included). "
        "Inner seconds, as each process reports its own main loop, median: "
        + "; ".join(f"{r.key} {statistics.median(r.inner):.2f} s" for r in rows if r.inner) + ".",
        "reports/s and MB/s divide the corpus (reports, compressed bytes) by the median wall time. "
        "CPU s: user + system seconds of the whole process tree (median), from the same wrapper.",
        "Peak RSS, largest process: `ru_maxrss` of the biggest single process in the tree "
        "(`/usr/bin/time -v`). Peak PSS, whole tree: the sum of PSS over the process and its "
        "descendants, sampled every 0.05 s (PSS counts copy-on-write pages shared by forked workers once) in one "
        "extra run per row that is not timed: sampling costs a two-process run ~8 % of its time "
        "(it reads every process's page tables) and a one-process run nothing, so timed runs do not sample.",
    ]
    pd_row = next(r for r in rows if r.key == "parsedmarc")
    if pd_row.failed:
        fails = pd_row.failures
        notes.append(f"parsedmarc rejected {pd_row.failed:,} of {len(files):,} reports; most common: "
                     + "; ".join(f"{c:,} x `{msg}`" for msg, c in fails)
                     + " (the generator includes real-world quirks such as older sys4/Postfix reports "
                       "without `policy-domain` for no-policy-found, which ours accepts).")
    if ours_out_bytes:
        notes.append(f"ours wrote {statistics.median(ours_out_bytes) / 1e6:,.0f} MB per run "
                     "(landing zone + journal + DuckDB + Parquet).")
    commands = [
        "# corpus (reused if present with the same N and seed)",
        meta["command"],
        "# each run, per row",
    ] + [r.command for r in rows] + [
        "# each command is wrapped in `/usr/bin/time -v`" if TIME_BIN.exists()
        else "# each command is wrapped in a Python getrusage(RUSAGE_CHILDREN) wrapper",
        "# this benchmark",
        " ".join([rel(sys.executable), "benchmarks/ingest_vs_parsedmarc.py",
                         *(argv if argv is not None else sys.argv[1:])]),
    ]
    text = render(rows, meta, machine, commands, args.repeat, notes)
    print()
    print(text)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(text)
    print(f"wrote {args.results}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_floor":
        worker_floor(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_parsedmarc":
        worker_parsedmarc(sys.argv[2])
    else:
        main()
