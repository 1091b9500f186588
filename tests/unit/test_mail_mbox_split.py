"""An mbox is cut into messages at every line that begins with `From `, the first line included."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.intake.sources import mbox_messages

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
