"""Where inputs come from on disk: files, folders (recursive), Maildir folders and mbox files.

Reading is defensive: `O_NOFOLLOW | O_NONBLOCK` so a symlink to /dev/zero or a
FIFO can neither be followed nor block us, `fstat` to accept regular files only, and a size cap
checked before reading. Dotfiles and `*.tmp` are files still being written: skipped.
"""

from __future__ import annotations

import mmap
import os
import stat
from datetime import datetime
from pathlib import Path
from typing import Iterator, NamedTuple

import orjson

from pipeline.parse import limits
from pipeline.parse.rejection import Rejected

_MBOX_SEPARATOR = b"\nFrom "  # a message starts at a line beginning with "From "
# At most this many bytes of back-to-back mbox messages are read with one `pread` (a chunk of
# report mails is ~1 MB); well under the per-input cap, so no message in a run is one it refuses.
_RUN_BYTES = 4 * 1024 * 1024


class InputRef(NamedTuple):
    """A pointer to one input: a whole file, or one message inside an mbox file. (A NamedTuple:
    a hundred thousand of them are made and pickled per 100k inputs.)"""

    path: str
    channel: str  # file | maildir | mbox
    origin: str  # what deliveries shows: the path, or path#message-number
    offset: int = 0
    length: int = -1  # -1: the whole file
    received_at: str | None = None  # known arrival time (replays from a pack), else mtime
    verdict: tuple[str, str | None] | None = None  # replay of an input refused before reading
    dkim: dict | None = None  # replay: the DKIM verdict taken when the input first arrived


def shown(path: str) -> str:
    """A path as text for deliveries.origin: a name that is not valid UTF-8 (copied from another
    system) keeps its odd bytes as escapes (`\\xff`), as it could be neither stored nor printed."""
    return path if path.isascii() else os.fsencode(path).decode("utf-8", "backslashreplace")


def _skip(name: str) -> bool:
    return name.startswith(".") or name.endswith(".tmp")


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def walk(paths: list[Path], channels: dict[Path, str] | None = None) -> Iterator[InputRef]:
    """Every input below the given paths, in a stable (sorted) order. `channels` names how the
    inputs of a root arrived (the HTTPS spool: "https"); the default is "file". In the IMAP
    spool, a refusal record stands for a message that was never downloaded (see refusal_record)."""
    for root in paths:
        channel = (channels or {}).get(root, "file")
        if root.is_dir() and not root.is_symlink():
            for ref in _walk_dir(root):
                if channel != "file" and ref.channel == "file":
                    ref = ref._replace(channel=channel)
                if channel == "imap" and ref.path.endswith(REFUSAL_SUFFIX):
                    ref = _refused_message(ref)
                yield ref
        else:
            yield InputRef(str(root), channel, str(root))


REFUSAL_SUFFIX = ".refused"


def refusal_record(origin: str, reason_code: str, detail: str, received_at: str) -> bytes:
    """What the IMAP fetcher spools for a message it refuses to download (one over the size
    cap): the message stays on the server, and this record gives it its `deliveries` row, so an
    input is never seen without a trace in the warehouse."""
    return orjson.dumps({"origin": origin, "reason_code": reason_code, "detail": detail, "received_at": received_at})


def _refused_message(ref: InputRef) -> InputRef:
    """The input a refusal record stands for: its origin, arrival time and verdict. A record
    that does not read back as one is ingested as what it is, a file (and quarantined)."""
    try:
        record = orjson.loads(read_input(ref)[0])
        verdict = (str(record["reason_code"]), str(record["detail"]))
        received_at = datetime.fromisoformat(str(record["received_at"])).isoformat()
        return ref._replace(origin=str(record["origin"]), received_at=received_at, verdict=verdict)
    except (Rejected, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return ref


def _walk_dir(folder: Path) -> Iterator[InputRef]:
    if _is_maildir(folder):
        for sub in ("new", "cur"):
            for entry in sorted(os.scandir(folder / sub), key=lambda e: e.name):
                if entry.is_file(follow_symlinks=False) and not _skip(entry.name):
                    yield InputRef(entry.path, "maildir", entry.path)
        children = [e for e in os.scandir(folder) if e.name.startswith(".") and e.is_dir(follow_symlinks=False)]
        for child in sorted(children, key=lambda e: e.name):  # Maildir++ subfolders are dot-named
            if _is_maildir(Path(child.path)):
                yield from _walk_dir(Path(child.path))
        return
    entries = sorted(os.scandir(folder), key=lambda e: e.name)
    for entry in entries:
        if _skip(entry.name):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk_dir(Path(entry.path))
        else:
            # Symlinks and special files are passed on so that they are quarantined, not lost.
            yield InputRef(entry.path, "file", entry.path)


def read_input(ref: InputRef) -> tuple[bytes, float]:
    """Return (bytes, mtime). Raises Rejected for what must not or cannot be read."""
    try:
        fd = os.open(ref.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno in (40,):  # ELOOP: the path is a symlink
            raise Rejected("not_a_regular_file", "a symbolic link") from None
        raise Rejected("unreadable", exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Rejected("not_a_regular_file", "not a regular file")
        if ref.length >= 0:
            if ref.length > limits.MAX_INPUT_BYTES:
                raise Rejected("input_too_large", f"{ref.length} bytes (cap {limits.MAX_INPUT_BYTES})")
            return os.pread(fd, ref.length, ref.offset), info.st_mtime
        if info.st_size > limits.MAX_INPUT_BYTES:
            if os.pread(fd, 5, 0) == b"From ":
                raise IsMbox(ref.path)
            raise Rejected("input_too_large", f"{info.st_size} bytes (cap {limits.MAX_INPUT_BYTES})")
        # One read of size + 1 answers in one call whether the file grew since fstat: a regular
        # file reads short only at its end, so a second call is needed only when a read was cut
        # by a signal (then fewer bytes than fstat promised came back).
        data = os.read(fd, info.st_size + 1)
        while len(data) < info.st_size:
            more = os.read(fd, info.st_size + 1 - len(data))
            if not more:
                break
            data += more
        if len(data) > limits.MAX_INPUT_BYTES:
            raise Rejected("input_too_large", "the file grew past the cap while being read")
        return data, info.st_mtime
    finally:
        os.close(fd)


def read_message_runs(refs: list[InputRef]) -> list[tuple[bytes, float] | None]:
    """For each ref, its (bytes, mtime) when it is one of a run of back-to-back messages of one
    mbox, read here with one `pread` for the whole run; None for a ref to read alone with
    read_input. A message read per ref cost an open, fstat, pread and close, ~5 us of a mail's
    ~120 us in a worker. Each message gets the bytes its own `pread` would have given (a file cut
    short reads short here too); a run that cannot be read is read message by message, so each
    message is refused on its own, as before."""
    found: list[tuple[bytes, float] | None] = [None] * len(refs)
    index = 0
    while index < len(refs):
        first, end = refs[index], index + 1
        stop = first.offset + first.length
        if _in_run(first):
            while end < len(refs) and _in_run(refs[end]) and refs[end].path == first.path \
                    and refs[end].offset == stop and stop + refs[end].length - first.offset <= _RUN_BYTES:
                stop += refs[end].length
                end += 1
        if end - index > 1:
            try:
                run, mtime = read_input(first._replace(length=stop - first.offset))
            except Rejected:
                run = None
            if run is not None:
                for number in range(index, end):
                    start = refs[number].offset - first.offset
                    found[number] = (run[start:start + refs[number].length], mtime)
        index = end
    return found


def _in_run(ref: InputRef) -> bool:
    return ref.channel == "mbox" and ref.verdict is None and 0 <= ref.length <= _RUN_BYTES


class IsMbox(Exception):
    """The file is an mbox: the caller splits it into one input per message."""


def is_multi_message_mbox(data: bytes) -> bool:
    return data.startswith(b"From ") and b"\nFrom " in data


def mbox_messages(path: str) -> Iterator[InputRef]:
    """One InputRef per message: the From_ line starts each one (mboxrd/mboxo escape body lines)."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            return
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
            starts = _message_starts(view)
    starts.append(size)
    for number, (begin, end) in enumerate(zip(starts, starts[1:]), start=1):
        if number > limits.MAX_MBOX_MESSAGES:
            break
        yield InputRef(path, "mbox", f"{path}#{number}", begin, end - begin)


def _message_starts(view: mmap.mmap) -> list[int]:
    """Where each line that begins with `From ` starts (the file's start counts as a line start).
    A loop of `find`, which runs in C: a `^From ` regex in multiline mode made a match object
    per message, 7.5 us each against 1 us here, in the committing process."""
    starts = [0] if view[:5] == b"From " else []
    find = view.find
    found = find(_MBOX_SEPARATOR)
    while found >= 0:
        starts.append(found + 1)
        found = find(_MBOX_SEPARATOR, found + 1)
    return starts
