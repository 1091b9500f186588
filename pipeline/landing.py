"""The raw landing zone: every input's bytes stored once, addressed by sha256, never changed.

Layout under `<data>/landing/packs/`: one pack file per committed batch, `<batch-id>.pack`:

    TLSRPT-PACK 1\\n
    {"arrival": {...}, "stored": N}\\n      one header line per input seen in the batch
    <N raw bytes>\\n                         present when this pack stores the input's bytes

Every arrival of the batch is listed (the journal), and the bytes of each input not stored in
any earlier pack follow its line; a repeated input only names its sha256. The `raw_objects`
table indexes sha256 -> (pack, offset, size); `tlsrpt rebuild` needs nothing but the packs.

Why packs and not one file per object: creating a file costs a metadata journal entry, and with
the pipeline's own writes in flight that measured 145-290 us per object here, several times the
whole parse of a report. A pack is one sequential write and one fsync per batch. It is written
to a temp name, fsynced and renamed, so a killed run leaves either a whole pack or a `.tmp-*`
stray (swept at start-up), never a torn one; packs are never modified afterwards.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

MAGIC = b"TLSRPT-PACK 1\n"
PACK_DIR = "landing/packs"


@dataclass(frozen=True)
class Arrival:
    """One input seen: a pack header line, and the arrival columns of `deliveries`."""

    sha256: str | None  # None when the bytes could not be read (then reason_code says why)
    size: int
    kind: str
    channel: str
    origin: str
    received_at: str | None  # ISO 8601 UTC: mail Date, file mtime, or when a POST/fetch landed
    ingested_at: str
    reason_code: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class PackedInput:
    """An arrival read back from a pack; `offset` is where its bytes sit, when this pack has them."""

    arrival: Arrival
    offset: int | None
    stored: int


def pack_relpath(batch_id: str) -> str:
    return f"{PACK_DIR}/{batch_id}.pack"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_pack(data_dir: Path, batch_id: str, entries: list[tuple[Arrival, bytes | None]]) -> dict[str, int]:
    """Write the batch's pack durably; return sha256 -> offset of every object stored in it."""
    folder = data_dir / PACK_DIR
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{batch_id}.pack"
    tmp = folder / f".tmp-{batch_id}"
    offsets: dict[str, int] = {}
    with open(tmp, "wb") as handle:
        handle.write(MAGIC)
        position = len(MAGIC)
        for arrival, data in entries:
            stored = len(data) if data is not None else 0
            header = json.dumps({"arrival": vars(arrival), "stored": stored}, ensure_ascii=False).encode() + b"\n"
            handle.write(header)
            position += len(header)
            if data is not None:
                offsets[arrival.sha256 or ""] = position
                handle.write(data)
                handle.write(b"\n")
                position += stored + 1
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, final)
    _fsync_dir(folder)
    return offsets


def read_pack(path: Path) -> Iterator[PackedInput]:
    """Every arrival of a pack in order; raises ValueError on a damaged pack."""
    with open(path, "rb") as handle:
        if handle.read(len(MAGIC)) != MAGIC:
            raise ValueError(f"{path} is not a pack")
        while header := handle.readline():
            record = json.loads(header)
            stored = int(record["stored"])
            offset = handle.tell() if stored else None
            if stored:
                handle.seek(stored, os.SEEK_CUR)
                if handle.read(1) != b"\n":
                    raise ValueError(f"{path} is truncated at {offset}")
            yield PackedInput(Arrival(**record["arrival"]), offset, stored)


def read_object(data_dir: Path, pack: str, offset: int, size: int) -> bytes:
    with open(data_dir / pack, "rb") as handle:
        return os.pread(handle.fileno(), size, offset)


def pack_batches(data_dir: Path) -> Iterator[tuple[str, Path]]:
    """(batch id, path) of every pack, oldest first (batch ids start with a UTC timestamp)."""
    folder = data_dir / PACK_DIR
    if folder.is_dir():
        for path in sorted(folder.glob("*.pack")):
            yield path.stem, path


def sweep_strays(data_dir: Path) -> int:
    """Remove temp files a killed run left behind; nothing ever referenced them."""
    removed = 0
    folder = data_dir / PACK_DIR
    if folder.is_dir():
        for stray in folder.glob(".tmp-*"):
            stray.unlink(missing_ok=True)
            removed += 1
    return removed


