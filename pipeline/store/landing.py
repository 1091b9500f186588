"""The raw landing zone: every input's bytes stored once, addressed by sha256, never changed.

Layout under `<data>/landing/packs/`: one pack file per committed batch, `<batch-id>.pack`:

    TLSRPT-PACK 2\n
    {"arrivals": [{...arrival..., "stored": N}, ...]}\n    every input seen in the batch, in order
    <bytes of each arrival with stored > 0, back to back, in the same order>

Every arrival of the batch is listed (the journal), and the bytes of each input that no earlier
pack holds follow the header; a repeated input only names its sha256. The `raw_objects` table
indexes sha256 -> (pack, offset, size); `tlsrpt rebuild` needs nothing but the packs.

Why packs and not one file per object: creating a file costs a metadata journal entry, and with
the pipeline's own writes in flight that measured 145-290 us per object here, several times the
whole parse of a report. A pack is one sequential write and one fsync per batch. It is written
to a temp name, fsynced and renamed, so a killed run leaves either a whole pack or a `.tmp-*`
stray (swept at start-up), never a torn one; packs are never modified afterwards. A reader
checks the file's length against the header, so damage is detected, not misread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import orjson

from pipeline.intake.spool import fsync_dir

MAGIC = b"TLSRPT-PACK 2\n"
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
    dkim: dict | None = None  # the DKIM verdict at arrival (mail only); reused by rebuilds


@dataclass(frozen=True)
class PackedInput:
    """An arrival read back from a pack; `offset` is where its bytes sit, when this pack has them."""

    arrival: Arrival
    offset: int | None
    stored: int


def pack_relpath(batch_id: str) -> str:
    return f"{PACK_DIR}/{batch_id}.pack"


def write_pack(data_dir: Path, batch_id: str, arrivals: list[dict], blobs: list[bytes | None]) -> dict[str, int]:
    """Write the batch's pack durably: `arrivals` are Arrival fields as dicts, `blobs` the bytes
    to store for each (None: not stored here). Return sha256 -> offset of each stored object."""
    folder = data_dir / PACK_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for arrival, blob in zip(arrivals, blobs):
        arrival["stored"] = len(blob) if blob is not None else 0
    header = MAGIC + orjson.dumps({"arrivals": arrivals}) + b"\n"
    offsets: dict[str, int] = {}
    position = len(header)
    for arrival, blob in zip(arrivals, blobs):
        if blob is not None:
            offsets[arrival["sha256"]] = position
            position += len(blob)
    tmp = folder / f".tmp-{batch_id}"
    try:
        with open(tmp, "wb") as handle:
            handle.write(header)
            handle.writelines(blob for blob in blobs if blob is not None)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:  # a full disk: give the space back now, not at the next start
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, folder / f"{batch_id}.pack")
    fsync_dir(folder)
    return offsets


def read_pack(path: Path) -> Iterator[PackedInput]:
    """Every arrival of a pack in order; raises ValueError on a damaged pack."""
    with open(path, "rb") as handle:
        if handle.readline() != MAGIC:
            raise ValueError(f"{path} is not a pack")
        arrivals = orjson.loads(handle.readline())["arrivals"]
        position = handle.tell()
        size = os.fstat(handle.fileno()).st_size
    if position + sum(int(a["stored"]) for a in arrivals) != size:
        raise ValueError(f"{path} is damaged: its length does not match its header")
    for record in arrivals:
        stored = int(record.pop("stored"))
        yield PackedInput(Arrival(**record), position if stored else None, stored)
        position += stored


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


