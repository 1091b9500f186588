"""The corpora the suite measures on: per size, `tlsrpt generate` as one file per report and as one
mbox (checked to hold the same reports), and one later day of the same world for the incremental
runs. Cached under --out; a marker, written last, says a corpus is finished."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path

from benchmarks import ingest_vs_parsedmarc as base  # stdlib only at import
from benchmarks.suite import log


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
