"""Durable drops into a spool folder: what the HTTPS receiver and the IMAP fetcher land before
they acknowledge (answer 201, move the message). Temp name, fsync, rename, fsync of the folder:
a crash leaves the whole file or a `.tmp-*` stray (skipped by the pipeline), never a torn one."""

from __future__ import annotations

import os
from pathlib import Path


def write_durably(folder: Path, name: str, data: bytes) -> bool:
    """Write `data` as folder/name; False (and nothing written) when that name already exists."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / name
    if final.exists():
        return False
    tmp = folder / f".tmp-{name}-{os.getpid()}"
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, final)
    except OSError:
        tmp.unlink(missing_ok=True)  # a full disk: give back what the partial copy took
        raise
    fsync_dir(folder)
    return True


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in `folder` durable (the directory entry itself)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
