"""fastpath.py changes speed, never results: every input gives the same rows, flags and refusals
with it as without it (generated corpora with every quirk, the real corpus, each hostile case,
and one-byte edits of a clean report aimed at what orjson decodes differently)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.generate import write_corpus
from pipeline.intake.sources import InputRef
from pipeline.parse import fastpath
from pipeline.parse.envelope import Envelope
from pipeline.parse.flatten import rows_for
from pipeline.parse.rejection import Rejected
from pipeline.parse.report_parser import parse_report
from pipeline.parse.worker import process_chunk
from tests.conftest import REAL_CORPUS
from tests.fixtures.hostile import CASES, write_case

TABLES = ("inputs", "parts", "reports", "policies", "failure_details")


def _tables(refs: list[InputRef], monkeypatch, enabled: bool) -> dict[str, list[dict]]:
    monkeypatch.setattr(fastpath, "ENABLED", enabled)
    chunk = process_chunk(refs)
    return {name: chunk.table(name).to_pylist() for name in TABLES}


def _same_both_ways(paths: list[Path], monkeypatch) -> None:
    refs = [InputRef(str(p), "file", str(p)) for p in paths]
    with_fast, without = _tables(refs, monkeypatch, True), _tables(refs, monkeypatch, False)
    for name in TABLES:
        assert with_fast[name] == without[name], name


def _count_fast(monkeypatch) -> list[int]:
    taken = [0]
    decode = fastpath.decode

    def counting(payload: bytes):
        found = decode(payload)
        taken[0] += found is not None
        return found

    monkeypatch.setattr(fastpath, "decode", counting)
    return taken


def test_generated_corpus_same_tables_both_ways(tmp_path: Path, monkeypatch):
    write_corpus(tmp_path, domains=4, days=25, seed=11, formats=("files", "eml"))
    paths = sorted(p for p in tmp_path.rglob("*") if p.is_file() and p.suffix in (".gz", ".eml", ".json"))
    taken = _count_fast(monkeypatch)
    _same_both_ways(paths, monkeypatch)
    # The generator puts a quirk in about one report in six; every clean one takes the fast path.
    assert taken[0] > 0.7 * len(paths)


def test_real_corpus_same_tables_both_ways(monkeypatch):
    if not REAL_CORPUS.is_dir():
        pytest.skip("../shared/corpus/real is not beside the project")
    _same_both_ways(sorted(p for p in REAL_CORPUS.rglob("*") if p.is_file()), monkeypatch)


def test_hostile_cases_same_outcome_both_ways(tmp_path: Path, monkeypatch):
    paths = []
    for case in CASES:
        path = tmp_path / case.path_name
        write_case(case, path)
        paths.append(path)
    _same_both_ways(paths, monkeypatch)


CLEAN = {
    "organization-name": "Example Org",
    "date-range": {"start-datetime": "2026-03-01T00:00:00Z", "end-datetime": "2026-03-01T23:59:59Z"},
    "contact-info": "tls@example.org",
    "report-id": "r-1",
    "policies": [{
        "policy": {"policy-type": "sts", "policy-domain": "example.com",
                   "policy-string": ["version: STSv1", "mode: enforce", "mx: mx1.example.com", "max_age: 86400"],
                   "mx-host": ["mx1.example.com"]},
        "summary": {"total-successful-session-count": 10, "total-failure-session-count": 2},
        "failure-details": [{"result-type": "certificate-expired", "sending-mta-ip": "192.0.2.1",
                             "receiving-mx-hostname": "mx1.example.com", "failed-session-count": 2}],
    }],
}
TEXT = json.dumps(CLEAN)

# (name, edit of the clean report's text): each aims at a difference between orjson + the hand
# checks and the strict decoder + pydantic.
EDITS = [
    ("clean", lambda t: t),
    ("pretty printed", lambda t: json.dumps(CLEAN, indent=2)),
    ("space before colon", lambda t: t.replace('"report-id":', '"report-id" :')),
    ("repeated key", lambda t: t.replace('"report-id": "r-1"', '"report-id": "r-1", "report-id": "r-2"')),
    ("repeated key, text holds a colon", lambda t: t.replace('"r-1"', '"r\\":1", "report-id": "x"')),
    ("colon-quote inside a string", lambda t: t.replace('"r-1"', '"r\\": 1"')),
    ("escaped key", lambda t: t.replace('"report-id"', '"\\u0072eport-id"')),
    ("field name instead of key", lambda t: t.replace('"report-id"', '"report_id"')),
    ("unknown key", lambda t: t.replace('"report-id"', '"x-extra": 1, "report-id"')),
    ("null optional detail text", lambda t: t.replace('"sending-mta-ip": "192.0.2.1"', '"sending-mta-ip": null')),
    ("null policy-string", lambda t: t.replace('"policy-string": [', '"policy-string": null, "x": [')),
    ("null mx-host", lambda t: t.replace('"mx-host": ["mx1.example.com"]', '"mx-host": null')),
    ("no mx-host", lambda t: t.replace(', "mx-host": ["mx1.example.com"]', "")),
    ("no failure-details", lambda t: t.replace(', "failure-details": [', ', "x": [')),
    ("null failure-details", lambda t: t.replace('"failure-details": [{', '"failure-details": null, "x": [{')),
    ("bool count", lambda t: t.replace('"failed-session-count": 2', '"failed-session-count": true')),
    ("float count", lambda t: t.replace('"failed-session-count": 2', '"failed-session-count": 2.0')),
    ("negative count", lambda t: t.replace('"failed-session-count": 2', '"failed-session-count": -2')),
    ("20-digit count", lambda t: t.replace('"failed-session-count": 2', '"failed-session-count": 18446744073709551615')),
    ("huge count", lambda t: t.replace('"failed-session-count": 2', '"failed-session-count": 1' + "0" * 30)),
    ("exponent count", lambda t: t.replace('"failed-session-count": 2', '"failed-session-count": 2e0')),
    ("empty string", lambda t: t.replace('"r-1"', '""')),
    ("blank report-id", lambda t: t.replace('"r-1"', '"  "')),
    ("long report-id", lambda t: t.replace('"r-1"', '"' + "r" * 256 + '"')),
    ("unicode digits in date", lambda t: t.replace("2026-03-01T00", "\u0662026-03-01T00")),
    ("date with offset", lambda t: t.replace("T00:00:00Z", "T00:00:00+00:00")),
    ("naive date", lambda t: t.replace("T00:00:00Z", "T00:00:00")),
    ("naive dates, fractions", lambda t: t.replace("T00:00:00Z", "T00:00:00.25").replace("T23:59:59Z", "T23:59:59.123456")),
    ("naive date, 7 fraction digits", lambda t: t.replace("T00:00:00Z", "T00:00:00.1234567")),
    ("lowercase zone", lambda t: t.replace("T00:00:00Z", "T00:00:00z")),
    ("null contact-info", lambda t: t.replace('"contact-info": "tls@example.org"', '"contact-info": null')),
    ("no contact-info", lambda t: t.replace('"contact-info": "tls@example.org", ', "")),
    ("empty contact-info", lambda t: t.replace('"contact-info": "tls@example.org"', '"contact-info": ""')),
    ("numeric contact-info", lambda t: t.replace('"contact-info": "tls@example.org"', '"contact-info": 5')),
    ("no organization-name", lambda t: t.replace('"organization-name": "Example Org", ', "")),
    ("fractional seconds", lambda t: t.replace("T00:00:00Z", "T00:00:00.5Z")),
    ("leap second", lambda t: t.replace("T23:59:59Z", "T23:59:60Z")),
    ("month 13", lambda t: t.replace("2026-03-01T00", "2026-13-01T00")),
    ("end before start", lambda t: t.replace("2026-03-01T23:59:59Z", "2026-02-01T23:59:59Z")),
    ("NUL escape", lambda t: t.replace('"r-1"', '"r\\u00001"')),
    ("lone surrogate", lambda t: t.replace('"r-1"', '"r\\ud800"')),
    ("unknown result type", lambda t: t.replace("certificate-expired", "brand-new-type")),
    ("unknown policy type", lambda t: t.replace('"policy-type": "sts"', '"policy-type": "dane"')),
    ("string mx-host", lambda t: t.replace('"mx-host": ["mx1.example.com"]', '"mx-host": "mx1.example.com"')),
    ("no policies", lambda t: t.replace('"policies": [{', '"policies": [], "x": [{')),
    ("top-level array", lambda t: "[" + t + "]"),
    ("trailing bytes", lambda t: t + "\n}"),
    ("BOM", lambda t: "\ufeff" + t),
    ("NaN", lambda t: t.replace('"failed-session-count": 2', '"failed-session-count": NaN')),
]


def _outcome(payload: bytes, monkeypatch, enabled: bool):
    monkeypatch.setattr(fastpath, "ENABLED", enabled)
    try:
        parsed = parse_report(payload, Envelope(origin="upload.json"))
    except Rejected as exc:
        return ("rejected", exc.code, exc.detail)
    parsed.extra.update(raw_sha256="x", part_index=0)
    try:
        return ("rows", parsed.report_key, parsed.content_sha256, sorted(parsed.flags), rows_for(parsed))
    except Rejected as exc:
        return ("rejected in flatten", exc.code, exc.detail)


@pytest.mark.parametrize(("name", "edit"), EDITS, ids=[name for name, _ in EDITS])
def test_edited_report_same_outcome_both_ways(name, edit, monkeypatch):
    text = edit(TEXT)
    assert name == "clean" or text != TEXT, "the edit must change something"
    payload = text.encode("utf-8", "surrogatepass")
    assert _outcome(payload, monkeypatch, True) == _outcome(payload, monkeypatch, False)


def test_fast_path_takes_only_what_it_recognises():
    assert fastpath.decode(TEXT.encode()) is not None
    assert fastpath.decode(json.dumps(CLEAN, indent=2).encode()) is not None
    assert fastpath.decode(dict(EDITS)["null contact-info"](TEXT).encode())[2] == {"contact_info_missing"}
    assert fastpath.decode(dict(EDITS)["naive date"](TEXT).encode())[2] == {"naive_datetime"}
    for name in ("repeated key", "unknown key", "field name instead of key", "float count", "BOM", "NUL escape"):
        edit = dict(EDITS)[name]
        assert fastpath.decode(edit(TEXT).encode("utf-8", "surrogatepass")) is None, name
