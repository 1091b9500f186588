"""The raw landing zone: every input's bytes stored once, named by sha256, never changed.

Layout under `<data>/landing/`:
  objects/<sha[:2]>/<sha256>.<kind>   the bytes exactly as received
  journal/<batch-id>.jsonl            one line per arrival: where it came from and when

Objects are written to a temp name in the same folder and renamed, so a killed process leaves
either the whole file or a `.tmp-*` stray (swept at start-up), never a torn object. Durability
is paid once per batch (syncfs), not per file: an fsync per file costs ~290 us here, ten times
the write itself. The journal is written after that sync and before the database commit, so
the journal alone can rebuild every table (`tlsrpt rebuild`).
"""

from __future__ import annotations

import ctypes
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

KIND_SUFFIX = {"json": "json", "gzip": "gz", "zip": "zip", "mail": "eml", "mbox": "eml"}

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class Arrival:
    """One input seen: the journal line, and the arrival columns of `deliveries`."""

    sha256: str
    size: int
    kind: str
    channel: str
    origin: str
    received_at: str | None  # ISO 8601 UTC: file mtime, or the time a POST/IMAP fetch landed
    ingested_at: str
    object_path: str | None  # relative to the data dir; None when the bytes were not kept
    reason_code: str | None = None  # why the bytes were not kept (unreadable, too large...)
    detail: str | None = None


def object_relpath(sha256: str, kind: str) -> str:
    return f"landing/objects/{sha256[:2]}/{sha256}.{KIND_SUFFIX.get(kind, 'bin')}"


_made_dirs: set[str] = set()  # per process: skip a mkdir syscall per object


def store_object(data_dir: Path, sha256: str, kind: str, data: bytes) -> str:
    """Write the bytes once under their hash; a second copy is a no-op."""
    rel = object_relpath(sha256, kind)
    final = os.path.join(data_dir, rel)
    if os.path.exists(final):
        return rel
    folder = os.path.dirname(final)
    if folder not in _made_dirs:
        os.makedirs(folder, exist_ok=True)
        _made_dirs.add(folder)
    tmp = os.path.join(folder, f".tmp-{sha256}-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    os.replace(tmp, final)
    return rel


def sync_filesystem(path: Path) -> None:
    """Flush everything written so far on the filesystem holding `path` (one call per batch)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def write_journal(data_dir: Path, batch_id: str, arrivals: list[Arrival]) -> Path:
    journal_dir = data_dir / "landing" / "journal"
    journal_dir.mkdir(parents=True, exist_ok=True)
    final = journal_dir / f"{batch_id}.jsonl"
    tmp = journal_dir / f".tmp-{batch_id}"
    with open(tmp, "w", encoding="utf-8") as handle:
        for arrival in arrivals:
            handle.write(json.dumps(vars(arrival), ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, final)
    dir_fd = os.open(journal_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return final


def read_journal(path: Path) -> list[Arrival]:
    with open(path, encoding="utf-8") as handle:
        return [Arrival(**json.loads(line)) for line in handle if line.strip()]


def journal_batches(data_dir: Path) -> Iterator[tuple[str, Path]]:
    """(batch id, path) of every journal file, oldest first (ids start with a UTC timestamp)."""
    journal_dir = data_dir / "landing" / "journal"
    if not journal_dir.is_dir():
        return
    for path in sorted(journal_dir.glob("*.jsonl")):
        yield path.stem, path


def sweep_strays(data_dir: Path) -> int:
    """Remove temp files a killed run left behind; they were never referenced anywhere."""
    removed = 0
    landing = data_dir / "landing"
    if landing.is_dir():
        for stray in landing.rglob(".tmp-*"):
            stray.unlink(missing_ok=True)
            removed += 1
    return removed
