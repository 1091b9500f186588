"""Dedupe against the lake itself (pipeline/store/known_keys.py): a batch learns which of its
reports and raw inputs are already loaded, from a lake with the columns of schema.sql, and the
lookup reads only the data files of the report dates it carries."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipeline.settings import Settings
from pipeline.store.known_keys import KnownKeys, RunKeys, lookup
from pipeline.store.lake import open_lake
from tests.conftest import ROOT

SCHEMA = (ROOT / "pipeline" / "store" / "schema.sql").read_text()


def create_table(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """The table as schema.sql declares it (those two have no primary key, which DuckLake lacks)."""
    statement = re.search(rf"create table if not exists {name} \(.*?\n\);", SCHEMA, re.S)
    con.execute(statement.group(0))


@pytest.fixture
def lake(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = open_lake(Settings(data_dir=tmp_path))
    create_table(con, "reports")
    create_table(con, "raw_objects")
    con.execute("alter table reports set partitioned by (year(report_date), month(report_date))")
    yield con
    con.close()


def load(con: duckdb.DuckDBPyConnection, key: str | list[str], day: str, content: str, raw: str = "") -> None:
    """One insert (so one data file) of reports of one day, every not-null column filled; and,
    when given, the record of their raw bytes."""
    con.execute(
        "insert into reports (report_key, organization_name, report_id, start_at, end_at, report_date, channel,"
        " raw_sha256, part_index, content_sha256, policy_count, conformance_flags, parser_version, trust, batch_id)"
        " select k, 'org', k, ?::date, ?::date + 1, ?::date, 'file', coalesce(?, 'r-' || k), 0, ?, 1, [], '1', 'unsigned', 'b1'"
        " from unnest(?::varchar[]) as t(k)",
        [day, day, day, raw or None, content, [key] if isinstance(key, str) else key])
    if raw:
        con.execute("insert into raw_objects values (?, 'packs/a.pack', 0, 10, 'json', 'b1')", [raw])


def batch(*rows: tuple[str | None, str | None, str | None]) -> pa.Table:
    keys, days, contents = zip(*rows)
    return pa.table({
        "report_key": pa.array(keys, pa.string()),
        "report_date": pa.array([date.fromisoformat(d) if d else None for d in days], pa.date32()),
        "content_sha256": pa.array(contents, pa.string()),
        "part_id": pa.array(range(len(rows)), pa.int32()),  # other columns of a batch's parts ride along
    })


def test_loaded_keys_come_back_with_their_content_and_new_ones_do_not(lake):
    load(lake, "k1", "2025-03-01", "c1", raw="raw1")
    load(lake, "k2", "2025-03-02", "c2")
    known = lookup(lake, batch(("k1", "2025-03-01", "c1"), ("k2", "2025-03-02", "other"), ("k3", "2025-03-02", "c3")),
                   ["raw1", "raw-new", "raw1"])
    assert known == KnownKeys(reports={"k1": "c1", "k2": "c2"}, objects={"raw1"})


def test_of_two_loaded_copies_the_one_with_the_batch_content_is_named(lake):
    """Two writers raced and both loaded k1: a third copy equal to one of them is `same_report`."""
    load(lake, "k1", "2025-03-01", "aaa")
    load(lake, "k1", "2025-03-01", "zzz")
    assert lookup(lake, batch(("k1", "2025-03-01", "zzz")), []).reports == {"k1": "zzz"}
    assert lookup(lake, batch(("k1", "2025-03-01", "mmm")), []).reports == {"k1": "aaa"}


def test_only_the_batch_report_dates_are_searched(lake):
    """A same-key copy under another date range is left to staging's one-row-per-key rule."""
    load(lake, "k1", "2025-01-15", "c1")
    assert lookup(lake, batch(("k1", "2025-06-15", "c1")), []).reports == {}
    assert lookup(lake, batch(("k1", "2025-06-15", "c1"), ("k9", "2025-01-15", "c9")), []).reports == {"k1": "c1"}


def test_rows_without_a_key_or_date_and_an_empty_batch_ask_nothing(lake):
    load(lake, "k1", "2025-03-01", "c1")
    assert lookup(lake, batch((None, "2025-03-01", None), ("k1", None, "c1")), [None, ""]) == KnownKeys()
    assert lookup(lake, batch(("k1", "2025-03-01", "c1")).slice(0, 0), []) == KnownKeys()


def test_the_lookup_reads_only_the_data_files_of_the_batch_dates(lake, tmp_path: Path):
    # A real batch (20,000 reports) is far over DuckLake's limit for keeping small inserts in the
    # catalog itself; these few rows must become data files like it.
    lake.execute("call lake.set_option('data_inlining_row_limit', 0)")
    for month in range(1, 7):
        for day in (1, 15):
            # Each insert writes a data file of its own, here one per day. Its keys span the key
            # space ("a…" to "z…", as random hashes do), so no file can be skipped by its keys.
            load(lake, [f"a{month}-{day}", f"z{month}-{day}"], f"2025-{month:02d}-{day:02d}", "c")
    files = lake.execute("select count(*) from ducklake_list_files('lake', 'reports')").fetchone()[0]
    assert files == 12, "each day's rows must be in a data file of their own for this test to mean anything"
    profile = tmp_path / "profile.json"
    lake.execute("pragma enable_profiling = 'json'")
    lake.execute(f"pragma profiling_output = '{profile}'")
    # A recent report and a late one: a range from the first to the last date would span 11 files.
    known = lookup(lake, batch(("a1-15", "2025-01-15", "c"), ("z6-1", "2025-06-01", "c"), ("new", "2025-06-02", "c")), [])
    lake.execute("pragma disable_profiling")
    assert known.reports == {"a1-15": "c", "z6-1": "c"}
    assert _files_read(json.loads(profile.read_text()), "reports") == 2


def _files_read(profile: dict, table: str) -> int:
    stack = [profile]
    while stack:
        node = stack.pop()
        info = node.get("extra_info", {})
        if node.get("operator_name") == "DUCKLAKE_SCAN" and info.get("Table") == table:
            return int(info["Total Files Read"])
        stack.extend(node.get("children", []))
    raise AssertionError(f"no scan of {table} in the profile")


def test_a_run_keeps_what_it_loaded_and_asks_the_lake_per_batch_only_on_a_shared_catalog(lake):
    load(lake, "k1", "2025-03-01", "c1", raw="raw1")
    shared = RunKeys(lake, per_batch=True)
    shared.reports["mine"] = "c-mine"  # loaded by this run, not committed yet
    known = shared.for_batch(batch(("k1", "2025-03-01", "c1"), ("k2", "2025-03-01", "c2")), ["raw1"])
    assert known.reports == {"mine": "c-mine", "k1": "c1"} and known.objects == {"raw1"}
    load(lake, "k3", "2025-04-01", "c3")  # another machine's commit: the next batch sees it
    assert "k3" in shared.for_batch(batch(("k3", "2025-04-01", "c3")), []).reports

    own = RunKeys(lake, per_batch=False)  # the embedded catalog: every key copied once
    own.reports["mine"] = "c-mine"
    known = own.for_batch(batch(("k1", "2025-03-01", "c1"), ("k2", "2025-03-01", "c2"), ("k3", "2025-03-09", "c3")),
                          ["raw1", "raw2"])
    # By key alone, as the exact read of every key did: k3 of another date range is found too.
    assert known.reports == {"mine": "c-mine", "k1": "c1", "k3": "c3"} and known.objects == {"raw1"}
    load(lake, "k4", "2025-04-01", "c4")  # (nothing else writes it; copied once, not again)
    assert "k4" not in own.for_batch(batch(("k4", "2025-04-01", "c4")), []).reports


def test_a_first_load_into_an_empty_lake_knows_what_the_run_loaded_and_finds_nothing_else(lake):
    own = RunKeys(lake, per_batch=False)
    assert own.for_batch(batch(("k1", "2025-03-01", "c1")), ["raw1"]).reports == {}
    own.reports["k1"], own.objects = "c1", {"raw1"}  # what the batch then loaded and stored
    load(lake, "k2", "2025-03-02", "c2", raw="raw2")  # (nothing else writes it: the copy stays empty)
    known = own.for_batch(batch(("k1", "2025-03-01", "c1"), ("k2", "2025-03-02", "c2")), ["raw1", "raw2"])
    assert known.reports == {"k1": "c1"} and known.objects == {"raw1"}
