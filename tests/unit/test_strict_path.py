"""The strict fast path and the lenient model agree on every report the strict one accepts."""

from __future__ import annotations

from pathlib import Path

from pipeline.generate import write_corpus
from pipeline.parse import containers, fastpath
from pipeline.parse.envelope import Envelope
from pipeline.parse.flatten import rows_for
from pipeline.parse.jsonsafe import decode_report_json
from pipeline.parse.models import Report
from pipeline.parse.models_strict import StrictReport
from pipeline.parse.report_parser import ParsedReport, canonical_sha256, parse_report, report_key


def test_both_paths_give_the_same_rows_and_flags(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(fastpath, "ENABLED", False)  # the pydantic strict model, not fastpath.py
    write_corpus(tmp_path, domains=3, days=20, seed=3, formats=("files",))
    strict_accepted = 0
    for path in sorted((tmp_path / "files").rglob("*.json.gz")):
        payload = containers.gunzip(path.read_bytes())
        envelope = Envelope(origin=str(path))
        fast = parse_report(payload, envelope)
        obj, _ = decode_report_json(payload)
        flags: set[str] = set()
        lenient = Report.model_validate(obj, context={"flags": flags})
        slow = ParsedReport(lenient, flags, report_key(lenient.organization_name, lenient.report_id), canonical_sha256(obj), envelope)
        if isinstance(fast.report, StrictReport):
            strict_accepted += 1
            assert flags == set(), path.name  # the strict model accepts nothing the lenient one flags
        assert rows_for(fast) == rows_for(slow), path.name
        assert fast.flags == slow.flags, path.name
    assert strict_accepted > 100  # most generated reports are clean
