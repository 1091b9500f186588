"""An mbox is cut into messages at every line that begins with `From `, the first line included;
back-to-back messages are read together."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.intake import sources
from pipeline.intake.sources import (
    InputRef,
    mbox_messages,
    read_input,
    read_message_runs,
)

MBOXES = {
    "two messages": b"From a@b Fri Jan  2 20:22:17 2026\nSubject: 1\n\nbody\nFrom c@d Sat\nSubject: 2\n\nx\n",
    "CRLF": b"From a@b\r\nSubject: 1\r\n\r\nbody\r\nFrom c@d\r\nSubject: 2\r\n",
    "escaped and mid-line": b"From a\n\n>From not a start\nsay From here\nFromage\n From indented\nFrom b\n",
    "no From_ line first": b"Subject: x\n\nFrom a\nbody\n",
    "From_ lines in a row": b"From a\nFrom b\nFrom c",
    "only a From_ line": b"From ",
    "a last line without a break": b"From a\nbody\nFrom ",
    "no From_ line at all": b"Subject: x\n\nbody\n",
}


def _expected(data: bytes, path: str) -> list[tuple[str, int, int]]:
    """The cut as the multiline regular expression made it."""
    starts = [m.start() for m in re.finditer(rb"^From ", data, re.M)] + [len(data)]
    return [(f"{path}#{n}", begin, end - begin) for n, (begin, end) in enumerate(zip(starts, starts[1:]), start=1)]


@pytest.mark.parametrize("name", MBOXES)
def test_messages_start_at_from_lines(tmp_path: Path, name: str):
    path = tmp_path / "box.mbox"
    path.write_bytes(MBOXES[name])
    refs = list(mbox_messages(str(path)))
    assert [(r.origin, r.offset, r.length) for r in refs] == _expected(MBOXES[name], str(path))
    assert all(r.channel == "mbox" and r.path == str(path) for r in refs)
    for ref in refs:  # each message is its own From_ line and what follows, up to the next
        assert MBOXES[name][ref.offset:ref.offset + ref.length].startswith(b"From ")


def test_an_empty_mbox_has_no_messages(tmp_path: Path):
    (tmp_path / "empty.mbox").write_bytes(b"")
    assert list(mbox_messages(str(tmp_path / "empty.mbox"))) == []


def _refs(path: Path, cuts: list[tuple[int, int]], channel: str = "mbox") -> list[InputRef]:
    return [InputRef(str(path), channel, f"{path}#{n}", offset, length) for n, (offset, length) in enumerate(cuts, 1)]


def test_a_run_of_messages_reads_as_each_message_alone(tmp_path: Path, monkeypatch):
    """Back-to-back messages of one mbox are read with one pread; each gets exactly the bytes,
    and the mtime, its own read gives. Runs break at a gap, another file, a replayed verdict, a
    file channel and the run cap; refs past the end of a file that shrank read short, as alone."""
    monkeypatch.setattr(sources, "_RUN_BYTES", 40)
    box, other = tmp_path / "box.mbox", tmp_path / "other.mbox"
    box.write_bytes(bytes(range(256)) * 2)
    other.write_bytes(b"From x\n" * 20)
    refs = (_refs(box, [(0, 10), (10, 5), (15, 20), (35, 6), (41, 7)])  # the cap cuts before (35, 6)
            + _refs(box, [(50, 4), (54, 6)]) + _refs(other, [(60, 7), (67, 7)])  # a gap; another file
            + _refs(box, [(74, 2), (76, 2)], channel="file") + _refs(box, [(78, 2), (80, 2)])
            + [InputRef(str(box), "mbox", "v", 82, 2, verdict=("unreadable", None))]
            + _refs(box, [(500, 10), (510, 10), (520, 10)]))  # runs past the end (512 bytes)
    alone = [None if ref.verdict else read_input(ref) for ref in refs]
    reads: list[tuple[int, int]] = []
    monkeypatch.setattr(sources, "read_input", lambda ref: reads.append((ref.offset, ref.length)) or read_input(ref))
    read = read_message_runs(refs)
    assert reads == [(0, 35), (35, 13), (50, 10), (60, 14), (78, 4), (500, 30)]
    for ref, got, expected in zip(refs, read, alone):
        assert got is None or got == expected, ref
    assert [i for i, got in enumerate(read) if got is None] == [9, 10, 13]
    mtime = box.stat().st_mtime
    assert read[14] == (bytes(range(244, 254)), mtime) and read[15] == (b"\xfe\xff", mtime) and read[16] == (b"", mtime)


def test_a_run_that_cannot_be_read_is_read_message_by_message(tmp_path: Path):
    refs = _refs(tmp_path / "gone.mbox", [(0, 10), (10, 10)])
    assert read_message_runs(refs) == [None, None]  # each is then refused on its own (unreadable)
