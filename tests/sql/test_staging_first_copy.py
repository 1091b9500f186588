"""Two writers that load one report at the same moment both commit it (each passed its lookup
before the other committed): the staging models keep the first copy by batch_id, the marts count
the report once, and the settled deliveries tell the later copy as a duplicate. The race is
planted here, so it happens every time; tests/integration/test_several_writers.py runs real ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app import data
from assets.checks import CHECKS, RECONCILIATIONS
from pipeline.store.settled_deliveries import LOST_RACE, SETTLED, SETTLED_AT_BUILD
from pipeline.transform.sql_models import build_all
from tests.conftest import ingest_into, open_warehouse, publish, query

FIXTURES = Path(__file__).parents[1] / "fixtures" / "reports"
EARLIER = "00000000T000000000000Z-race"  # sorts before every real batch id (they begin with the time)
MARTS = {
    "daily_outcomes": "select sum(total_session_count), sum(failed_session_count), count(*) from marts.daily_outcomes",
    "failures_by_result": "select sum(failed_session_count), count(*) from marts.failures_by_result",
    "reporter_health": "select sum(report_count) from marts.reporter_health",
}


def _build(data_dir: Path, full: bool) -> None:
    con = open_warehouse(data_dir, read_only=False)
    try:
        build_all(con, full=full)
    finally:
        con.close()


def _plant_earlier_copy(data_dir: Path, key: str, days_earlier: int = 0) -> None:
    """The report's rows again, as an earlier batch of another writer committed them: a batch
    in ingest_batches, its loaded delivery, its reports/policies/failure_details rows (dated
    `days_earlier` before the first: a copy with another date range)."""
    con = open_warehouse(data_dir, read_only=False)
    try:
        con.execute("begin transaction")
        for table in ("reports", "policies", "failure_details"):
            con.execute(f"insert into {table} select * replace ('{EARLIER}' as batch_id, report_date - {days_earlier:d}"
                        f" as report_date) from {table} where report_key = ?", [key])
        con.execute(
            "insert into deliveries select * replace ('{0}' as batch_id, '{0}:0:0' as delivery_id) from deliveries"
            " where report_key = ? and outcome = 'loaded'".format(EARLIER), [key])
        con.execute("insert into ingest_batches values (?, now(), 1, 1, 0, 0)", [EARLIER])
        con.execute("commit")
    finally:
        con.close()


@pytest.mark.parametrize("full", [True, False], ids=["full build", "incremental build"])
def test_a_report_loaded_by_two_writers_counts_once(tmp_path: Path, full: bool, monkeypatch):
    ingest_into(tmp_path, [FIXTURES])
    _build(tmp_path, full=True)
    before = {name: query(tmp_path, sql) for name, sql in MARTS.items()}
    (key, batch, policies), = query(
        tmp_path, "select r.report_key, r.batch_id, count(*) from reports r join policies p using (report_key)"
        " group by all order by count(*) desc, 1 limit 1")
    loaded_before = query(tmp_path, f"select count(*) from ({SETTLED}) where outcome = 'loaded'")
    duplicates = "select sum(duplicate_deliveries) from marts.reporter_health"
    duplicates_before = query(tmp_path, duplicates)[0][0]

    _plant_earlier_copy(tmp_path, key)
    _build(tmp_path, full=full)

    assert query(tmp_path, "select batch_id from staging.reports where report_key = ?", [key]) == [(EARLIER,)]
    assert query(tmp_path, "select count(*) from staging.policies where report_key = ?", [key]) == [(policies,)]
    assert query(tmp_path, "select count(*) - count(distinct report_key) from staging.reports") == [(0,)]
    assert {name: query(tmp_path, sql) for name, sql in MARTS.items()} == before
    # the copy that came second reads as a duplicate of the same report; the loaded count stays
    assert query(tmp_path, f"select outcome, reason_code, detail from ({SETTLED}) where report_key = ? and batch_id = ?",
                 [key, batch]) == [("duplicate", "same_report", LOST_RACE)]
    assert query(tmp_path, f"select count(*) from ({SETTLED}) where outcome = 'loaded'") == loaded_before
    # what the dashboard reads at the build's snapshot settles every delivery the same way
    every = "select delivery_id, outcome, reason_code, detail from ({}) order by delivery_id"
    assert query(tmp_path, every.format(SETTLED_AT_BUILD)) == query(tmp_path, every.format(SETTLED))
    assert query(tmp_path, "select report_key, batch_id, copy_number from staging.report_copies order by 3") == [
        (key, EARLIER, 1), (key, batch, 2)]
    # the reporter's health counts that copy as a duplicate delivery, the dashboard lists the report once
    assert query(tmp_path, duplicates) == [(duplicates_before + 1,)]
    publish(tmp_path)
    monkeypatch.setenv("TLSRPT_DATA_DIR", str(tmp_path))
    listed = data.reports(data.Filters((), date(2000, 1, 1), date(2100, 1, 1), None), key, data.current_snapshot())
    assert listed["report_key"].to_list() == [key] and listed["total_rows"].to_list() == [1]
    # the intake page settles the rows it shows, whichever outcome is chosen
    snap = data.current_snapshot()
    every = data.deliveries(None, snap)
    raced = every.filter((every["report_key"] == key) & (every["outcome"] == "duplicate"))
    assert raced["reason_code"].to_list() == ["same_report"]
    assert data.deliveries("loaded", snap)["total_rows"][0] == loaded_before[0][0]
    assert key in data.deliveries("duplicate", snap)["report_key"].to_list()
    assert every["total_rows"][0] == query(tmp_path, "select count(*) from deliveries")[0][0]
    # the asset checks hold with two copies of one key in the core tables
    for _, name, sql, *_ in CHECKS:
        assert query(tmp_path, sql) == [(0,)], name
    for _, name, sql, *_ in RECONCILIATIONS:
        assert query(tmp_path, sql) == [], name


def test_a_copy_of_another_day_is_found_by_the_days_a_new_batch_touched(tmp_path: Path):
    """staging.report_copies looks up only the keys of the days a build redoes: a new copy dated
    days before the first copy touches both days, and the incremental build gives the copies and
    the kept report a full build gives."""
    ingest_into(tmp_path, [FIXTURES])
    _build(tmp_path, full=True)
    (key, batch), = query(tmp_path, "select report_key, batch_id from reports order by report_key limit 1")
    _plant_earlier_copy(tmp_path, key, days_earlier=5)
    tables = ("staging.report_copies", "staging.reports", "staging.policies")
    _build(tmp_path, full=False)
    incremental = {t: query(tmp_path, f"select * from {t} order by all") for t in tables}
    assert query(tmp_path, "select batch_id, copy_number, first_batch_id from staging.report_copies order by 2") == [
        (EARLIER, 1, EARLIER), (batch, 2, EARLIER)]
    _build(tmp_path, full=True)
    assert {t: query(tmp_path, f"select * from {t} order by all") for t in tables} == incremental
