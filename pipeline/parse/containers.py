"""Capped decompression: gzip and zip layers are undone once, within fixed memory.

Streaming with a max_length means a 10 GiB gzip bomb costs one cap's worth of memory and stops
at the cap. Everything a layer refuses gets its own reason code.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from pipeline.parse import limits
from pipeline.parse.rejection import Rejected


def gunzip(data: bytes, cap: int = limits.MAX_INFLATED_BYTES) -> bytes:
    inflater = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer required
    try:
        out = inflater.decompress(data, cap + 1)
    except zlib.error as exc:
        raise Rejected("gzip_corrupt", str(exc)) from None
    if len(out) > cap:
        raise Rejected("gzip_too_large", f"inflates beyond {cap} bytes")
    if not inflater.eof:
        if inflater.unconsumed_tail:
            raise Rejected("gzip_too_large", f"inflates beyond {cap} bytes")
        raise Rejected("gzip_truncated", "the gzip stream ends early")
    if inflater.unused_data.strip(b"\x00"):
        # A second member or garbage: one report is one member; refuse rather than guess.
        raise Rejected("gzip_trailing_data", f"{len(inflater.unused_data)} bytes after the gzip stream")
    return out


def unzip(data: bytes, cap: int = limits.MAX_INFLATED_BYTES) -> list[tuple[str, bytes]]:
    """Return (entry name, bytes) for each file entry, `cap` bytes in all of them together
    (ten entries of a bomb each would cost ten caps). Names are metadata, never paths."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise Rejected("zip_corrupt", str(exc)) from None
    if len(entries) > limits.MAX_ZIP_ENTRIES:
        raise Rejected("zip_too_many_entries", f"{len(entries)} entries (cap {limits.MAX_ZIP_ENTRIES})")
    result = []
    for info in entries:
        try:
            with archive.open(info) as handle:
                # Never trust the declared size: read one byte past the cap to detect a lie.
                content = handle.read(cap + 1)
                cap -= len(content)
        except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise Rejected("zip_corrupt", f"{info.filename!r}: {exc}") from None
        if cap < 0:
            raise Rejected("zip_too_large", f"{info.filename!r} inflates beyond the cap")
        result.append((info.filename, content))
    return result
