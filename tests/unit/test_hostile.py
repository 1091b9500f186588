"""Every hostile input (TESTBED.md section 4) ends in its own stable reason code, or loads with
its flags; bombs are refused within a fixed memory budget; nothing is written from a name."""

from __future__ import annotations

import os
import resource
import tracemalloc
from pathlib import Path

import pytest

from pipeline.intake.sources import InputRef
from pipeline.parse import limits, worker
from pipeline.parse.envelope import Envelope
from pipeline.parse.extract import extract
from pipeline.parse.frames import named
from pipeline.parse.rejection import REASONS
from pipeline.parse.worker import InputResult, process_input
from tests.fixtures.builders import BOMB_MIB, MIB, valid_report
from tests.fixtures.hostile import ABSOLUTE_NAME, CASES, ESCAPE_NAME, TRAVERSAL_CASES, Case, write_case

BOMB_BUDGET = 100 * MIB  # the bombs inflate to 1 GiB; a capped inflater needs about one cap (20 MB)


def _process(case: Case, tmp_path: Path) -> tuple[Path, InputResult]:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    path = inbox / case.path_name
    write_case(case, path)
    return path, process_input(InputRef(str(path), "file", str(path)))


def _outcomes(result: InputResult) -> tuple[str | None, ...]:
    return tuple("loaded" if part.rows is not None else part.reason_code for part in result.parts)


def _files_under(root: Path) -> set[Path]:
    return {Path(folder) / name for folder, dirs, files in os.walk(root) for name in files + dirs}


def test_every_expected_code_is_a_stable_reason():
    expected = {code for case in CASES for code in case.expect} - {"loaded"}
    assert expected <= REASONS.keys()
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.timeout(30)  # a safety net only: a FIFO or a bomb must never hang the suite
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_hostile_input_gets_its_outcome(case: Case, tmp_path: Path):
    _, result = _process(case, tmp_path)
    assert _outcomes(result) == case.expect, [part.detail for part in result.parts]
    loaded = [part for part in result.parts if part.rows is not None]
    assert sorted(named("reports", part.rows[0])["report_id"] for part in loaded) == sorted(case.report_ids)
    for part in loaded:
        assert case.flags <= set(named("reports", part.rows[0])["conformance_flags"])
    for part in result.parts:
        if part.rows is None:
            assert part.detail, "a quarantine record always says why"


def test_wide_text_that_is_no_report_is_still_not_a_report():
    """The UTF-16/32 check names a report in the wrong encoding, not every UTF-16 file."""
    for text in ("Dear customer, your invoice is attached.", '{"hello": "world"}'):
        _, (outcome,) = extract(text.encode("utf-16"), Envelope())
        assert outcome.rejected.code == "not_a_tls_report"


def test_bad_ips_are_kept_as_text_and_marked_invalid(tmp_path: Path):
    _, result = _process(next(c for c in CASES if c.name == "bad_ips"), tmp_path)
    details = [named("failure_details", row) for row in result.parts[0].rows[2]]
    assert [d["sending_mta_ip"] for d in details] == ["999.1.1.1", "<script>alert(1)</script>"]
    assert [d["is_sending_mta_ip_valid"] for d in details] == [False, False]
    assert [d["is_receiving_ip_valid"] for d in details] == [False, False]


def test_leap_second_is_clamped_and_lowercase_is_read(tmp_path: Path):
    _, leap = _process(next(c for c in CASES if c.name == "leap_second"), tmp_path)
    _, lower = _process(next(c for c in CASES if c.name == "lowercase_t_z"), tmp_path)
    assert named("reports", leap.parts[0].rows[0])["end_at"].isoformat() == "2024-05-01T23:59:59+00:00"
    assert named("reports", lower.parts[0].rows[0])["start_at"].isoformat() == "2024-05-01T00:00:00+00:00"


def test_trailing_data_keeps_the_raw_bytes(tmp_path: Path):
    path, result = _process(next(c for c in CASES if c.name == "trailing_data"), tmp_path)
    assert result.data == path.read_bytes()  # landed verbatim in the batch's pack


def test_sibling_attachment_loads_beside_a_corrupt_one(tmp_path: Path):
    _, result = _process(next(c for c in CASES if c.name == "mail_one_corrupt_attachment"), tmp_path)
    loaded, refused = result.parts
    assert loaded.attachment_name == "good.json.gz" and loaded.rows is not None
    assert refused.attachment_name == "bad.json.gz" and refused.rows is None


@pytest.mark.parametrize("case", TRAVERSAL_CASES, ids=lambda case: case.name)
def test_attachment_name_is_never_a_path(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cwd = tmp_path / "cwd" / "a" / "b"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)  # "../../x" from here still lands inside tmp_path, where we look
    (tmp_path / "inbox").mkdir()
    before = _files_under(tmp_path)
    _, result = _process(case, tmp_path)
    assert _outcomes(result) == ("loaded",)
    created = _files_under(tmp_path) - before
    data_dir = tmp_path / "data"
    assert all(path.is_relative_to(data_dir) or path == tmp_path / "inbox" / case.name for path in created)
    assert result.data == (tmp_path / "inbox" / case.name).read_bytes()  # landed by sha256, not by name
    assert not any(ESCAPE_NAME in path.name for path in _files_under(tmp_path))
    assert not Path(ABSOLUTE_NAME).exists()
    name = result.parts[0].attachment_name
    assert name and "\x00" not in name  # kept as escaped metadata (RFC 2047 stays encoded)


@pytest.mark.timeout(10)
def test_fifo_does_not_block(tmp_path: Path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # no writer: a plain open() would block forever
    result = process_input(InputRef(str(fifo), "file", str(fifo)))
    assert _outcomes(result) == ("not_a_regular_file",)


def test_bombs_are_real_bombs():
    """The fixtures must really exceed the caps, or the memory test below proves nothing."""
    assert BOMB_MIB * MIB > 10 * limits.MAX_INFLATED_BYTES
    mime_bomb = next(c for c in CASES if c.name == "mime_bomb").build()
    assert mime_bomb.count(b"\n--b0") > 100 * limits.MAX_MIME_PARTS


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", [c for c in CASES if c.bomb], ids=lambda case: case.name)
def test_bomb_is_refused_within_memory_budget(case: Case):
    data = case.build()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    tracemalloc.start()
    try:
        kind, outcomes = extract(data, Envelope())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    assert [o.rejected.code for o in outcomes] == list(case.expect)
    assert peak < BOMB_BUDGET, f"{kind}: {peak / MIB:.0f} MiB allocated"
    assert rss_growth < 2 * BOMB_BUDGET, f"{kind}: peak RSS grew {rss_growth / MIB:.0f} MiB"


def test_a_value_no_column_holds_costs_only_its_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Whatever slips past the caps and fails in the conversion to columns (here a row forced
    past 64 bits) quarantines its own input; its chunk's other inputs load (issue 15, item 1)."""
    refs = []
    for name in ("good-1", "evil", "good-2"):
        path = tmp_path / f"{name}.json"
        path.write_bytes(valid_report(name))
        refs.append(InputRef(str(path), "file", str(path)))
    real_rows_for = worker.rows_for

    def overflowing(parsed):
        report, policies, details = real_rows_for(parsed)
        if parsed.report.report_id == "evil":
            policies = [row[:-3] + (2**64, *row[-2:]) for row in policies]  # failure_detail_session_sum
        return report, policies, details

    monkeypatch.setattr(worker, "rows_for", overflowing)
    chunk = worker.process_chunk(refs)
    parts = chunk.table("parts").to_pylist()
    assert [(p["loadable"], p["reason_code"]) for p in parts] == [(True, None), (False, "internal_error"), (True, None)]
    assert "could not be stored" in parts[1]["detail"]
    assert chunk.table("inputs")["sha256"].null_count == 0  # the raw bytes of all three are kept
    assert sorted(chunk.table("reports")["report_id"].to_pylist()) == ["good-1", "good-2"]
