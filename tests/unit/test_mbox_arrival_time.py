"""A message read with its mbox run arrives at its own mbox file's time (worker._run_time
remembers the datetime of a run's file time)."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from pipeline.intake.sources import mbox_messages
from pipeline.parse.worker import process_chunk

MESSAGE = b"From x@example.org Mon Jan  5 10:00:00 2026\nSubject: no report\n\nnothing here\n"


def test_each_mbox_run_keeps_its_files_time(tmp_path: Path):
    times = {"a.mbox": 1_700_000_000.25, "b.mbox": 1_750_000_000.5}
    for name, mtime in times.items():
        (tmp_path / name).write_bytes(MESSAGE * 3)
        os.utime(tmp_path / name, (mtime, mtime))
    refs = [ref for name in ("a.mbox", "b.mbox", "a.mbox") for ref in mbox_messages(str(tmp_path / name))]
    received = process_chunk(refs).table("inputs").column("received_at").to_pylist()
    expected = [datetime.fromtimestamp(times[Path(ref.path).name], tz=timezone.utc) for ref in refs]
    assert len(received) == 9 and received == expected
