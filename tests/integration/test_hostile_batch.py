"""All hostile inputs and three valid reports in one folder, ingested in one run: the run ends,
the valid reports load, every hostile input has its quarantine row and leaves no table rows,
and no attachment name becomes a file outside the data dir."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import duckdb
import pytest

import pipeline.ingest
from pipeline.ingest import ingest
from pipeline.settings import Settings
from tests.conftest import open_warehouse
from tests.fixtures.builders import attachment, gz, mail, valid_report
from tests.fixtures.hostile import ABSOLUTE_NAME, CASES, ESCAPE_NAME, write_case

VALID = {
    "valid-plain.json": (valid_report("valid-1"), "valid-1"),
    "valid-gzip.json.gz": (gz(valid_report("valid-2")), "valid-2"),
    "valid-mail.eml": (mail("valid-3", [attachment(gz(valid_report("valid-3")))]), "valid-3"),
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(root, inbox): root holds the inbox, a deep working directory and the data dirs."""
    root = tmp_path_factory.mktemp("hostile-batch")
    inbox = root / "inbox"
    inbox.mkdir()
    for case in CASES:
        write_case(case, inbox / case.path_name)
    for name, (data, _) in VALID.items():
        (inbox / name).write_bytes(data)
    (root / "cwd" / "a" / "b").mkdir(parents=True)
    return root, inbox


def _tree(root: Path, skip: Path) -> set[Path]:
    found = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(folder) / d != skip]
        found.update(Path(folder) / name for name in dirs + files)
    return found


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


@pytest.mark.timeout(120)  # safety net: a FIFO or a bomb must end the run, not hang it
@pytest.mark.parametrize("workers", [1, 2])
def test_hostile_batch(batch: tuple[Path, Path], workers: int, monkeypatch: pytest.MonkeyPatch):
    root, inbox = batch
    data_dir = root / f"data-{workers}"
    monkeypatch.chdir(root / "cwd" / "a" / "b")  # "../../x" resolves inside root, where we look
    monkeypatch.setattr(pipeline.ingest, "CHUNK_INPUTS", 8)  # several chunks, so both workers work
    before = _tree(root, skip=data_dir)

    summary = ingest([inbox], Settings(data_dir=data_dir, workers=workers))

    expected_ids = {rid for case in CASES for rid in case.report_ids} | {rid for _, rid in VALID.values()}
    expected_quarantine = Counter(code for case in CASES for code in case.expect if code != "loaded")
    assert summary.inputs == len(CASES) + len(VALID)
    assert summary.loaded == len(expected_ids)
    assert summary.duplicates == 0
    assert summary.quarantined == expected_quarantine

    con = open_warehouse(data_dir)
    try:
        deliveries: dict[str, list[tuple]] = {}
        for origin, part, outcome, reason, stored in _rows(
            con,
            "select origin, part_index, outcome, reason_code, o.raw_sha256 is not null from deliveries d"
            " left join raw_objects o using (raw_sha256) order by origin, part_index",
        ):
            deliveries.setdefault(Path(origin).name, []).append((outcome, reason))
            assert stored or reason in ("not_a_regular_file", "input_too_large", "unreadable"), origin
        for case in CASES:
            want = [("loaded", None) if code == "loaded" else ("quarantined", code) for code in case.expect]
            assert deliveries[case.shown_name] == want, case.name
        for name in VALID:
            assert deliveries[name] == [("loaded", None)]

        reports = dict(_rows(con, "select report_id, conformance_flags from reports"))
        assert set(reports) == expected_ids  # nothing of a quarantined report, nothing missing
        for case in CASES:
            for report_id in case.report_ids:
                assert case.flags <= set(reports[report_id]), case.name
        for table in ("policies", "failure_details"):
            orphans = _rows(con, f"select count(*) from {table} where report_key not in (select report_key from reports)")
            assert orphans == [(0,)], table
        assert _rows(con, "select count(*) from policies") == _rows(con, "select sum(policy_count) from reports")
        leaked = _rows(
            con,
            "select count(*) from deliveries d join reports r using (report_key) where d.outcome <> 'loaded'",
        )
        assert leaked == [(0,)]
        ip_valid = _rows(
            con,
            "select distinct f.is_sending_mta_ip_valid from failure_details f join reports r using (report_key)"
            " where r.report_id = 'hostile-bad_ips'",
        )
        assert ip_valid == [(False,)]
    finally:
        con.close()

    created = _tree(root, skip=data_dir) - before
    assert created == set(), f"written outside the data dir: {sorted(map(str, created))}"
    assert not any(ESCAPE_NAME in path.name for path in _tree(root, skip=root / "none"))
    assert not Path(ABSOLUTE_NAME).exists()
