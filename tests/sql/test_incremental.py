"""Incremental builds give the tables a full rebuild gives: the same reports fed in several
orders and batch splits (late reports weeks back, duplicates, batch ids committed out of order),
a build after every batch, then every model compared row by row with a full rebuild of the
same core tables."""

from __future__ import annotations

import hashlib
import math
import shutil
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipeline.detect.detection_config import DEFAULTS
from pipeline.generate import write_corpus
from pipeline.settings import Settings
from pipeline.store.warehouse import connect, ensure_schema
from pipeline.transform import incremental
from pipeline.transform.sql_models import (
    SQL_DIR,
    build_all,
    build_one,
    build_order,
    load_models,
    write_config,
)
from tests.conftest import ingest_into, open_warehouse


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """The detection scenarios (seed 1): silences, stale policies, several MX, double listings."""
    root = tmp_path_factory.mktemp("incremental")
    write_corpus(root / "corpus", seed=1, scenarios=("all",), formats=("files",))
    ingest_into(root / "data", [root / "corpus" / "files"], workers=2)
    # The core tables in a plain DuckDB file: each test feeds them to its own in-memory
    # warehouse (no lake needed to compare builds), in its own batch order.
    copy = root / "source.duckdb"
    con = open_warehouse(root / "data")
    try:
        con.execute(f"attach '{copy}' as copy")
        for table in ("reports", "policies", "failure_details", "deliveries", "ingest_batches"):
            con.execute(f"create table copy.main.{table} as select * from lake.main.{table}")
        con.execute("detach copy")  # an attachment outlives the cursor: the lake's database is kept
    finally:
        con.close()
    return copy


def _bucket(key: str, buckets: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % buckets


def _split(con: duckdb.DuckDBPyConnection, how: str) -> list[list[str]]:
    """Report keys per batch, in commit order."""
    rows = con.execute("select report_key, report_date from src.main.reports order by report_date, report_key").fetchall()
    first = rows[0][1]
    if how == "chronological, late reports weeks back":
        # Ten-day batches; one report in eight arrives with the last batch instead.
        late = [k for k, _ in rows if _bucket(k, 8) == 0]
        batches: dict[int, list[str]] = {}
        for key, day in rows:
            if _bucket(key, 8):
                batches.setdefault((day - first).days // 10, []).append(key)
        return [*batches.values(), late]
    if how == "a week at a time":
        # In order, as a daily intake adds them: a run or a new type shows up after the days before it.
        batches = {}
        for key, day in rows:
            batches.setdefault((day - first).days // 7, []).append(key)
        return list(batches.values())
    if how == "newest first":
        batches = {}
        for key, day in rows:
            batches.setdefault((day - first).days // 15, []).append(key)
        return list(reversed(batches.values()))
    if how == "one day late, after the days around it":
        # A day in the middle arrives last, alone: the gaps around it close on both sides, and
        # the day before it (built long ago) gets a new next report day.
        middle = first + (rows[-1][1] - first) / 2
        return [[k for k, d in rows if d != middle], [k for k, d in rows if d == middle]]
    # any order: four batches of reports from every week
    return [[k for k, _ in rows if _bucket(k, 4) == n] for n in range(4)]


def _commit(con: duckdb.DuckDBPyConnection, batch_id: str, keys: list[str], seen: list[str]) -> None:
    """One batch as ingest commits it: the reports' core rows, a delivery per report, and a
    duplicate delivery of reports earlier batches loaded."""
    for table in ("reports", "policies", "failure_details"):
        con.execute(f"insert into main.{table} select * replace (? as batch_id) from src.main.{table}"
                    " where report_key in (select unnest(?))", [batch_id, keys])
    con.execute("insert into main.deliveries select * replace (? as batch_id) from src.main.deliveries"
                " where outcome = 'loaded' and report_key in (select unnest(?))", [batch_id, keys])
    again = [k for k in seen if _bucket(k, 10) == 0]
    con.execute("insert into main.deliveries select * replace (? as batch_id, delivery_id || ? as delivery_id,"
                " 'duplicate' as outcome) from src.main.deliveries"
                " where outcome = 'loaded' and report_key in (select unnest(?))", [batch_id, batch_id, again])
    con.execute("insert into main.ingest_batches values (?, now(), ?, ?, ?, 0)",
                [batch_id, len(keys) + len(again), len(keys), len(again)])


def _rows(con: duckdb.DuckDBPyConnection, key: str) -> list[tuple]:
    def tolerant(value):  # sums and medians in another order differ in the last bits
        return float(f"{value:.9g}") if isinstance(value, float) and math.isfinite(value) else value
    return [tuple(tolerant(v) for v in row) for row in con.execute(f"select * from {key}").fetchall()]


def _fed_in_batches(source: Path, how: str, models=None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_schema(con)
    con.execute(f"attach '{source}' as src (read_only)")
    seen: list[str] = []
    for n, keys in enumerate(_split(con, how)):
        # Ids that sort against the commit order, as writers on several machines commit them.
        _commit(con, f"batch-{99 - n:02d}", keys, seen)
        seen += keys
        build_all(con, models=models, today=date(2026, 4, 15))
    return con


def _differences(con: duckdb.DuckDBPyConnection, models=None, today: date = date(2026, 4, 15)) -> dict[str, int]:
    """model -> rows that differ between the incremental tables and a full rebuild of them."""
    models = models or load_models()
    order = build_order(models)
    incremental_rows = {key: _rows(con, key) for key in order}
    # The row counts the builds recorded (carried from build to build, not counted) are the tables'.
    recorded = dict(con.execute("select model, row_count from config.model_builds").fetchall())
    out = {f"{key}: recorded row count": recorded.get(key, 0) - len(incremental_rows[key])
           for key in order if recorded.get(key) != len(incremental_rows[key])}
    build_all(con, models=models, today=today, full=True)
    for key in order:
        full, ours = Counter(map(repr, _rows(con, key))), Counter(map(repr, incremental_rows[key]))
        differing = (full - ours).total() + (ours - full).total()
        if differing:
            out[key] = differing
    return out


@pytest.mark.parametrize("how", ["chronological, late reports weeks back", "a week at a time", "newest first", "any order",
                                 "one day late, after the days around it"])
def test_incremental_builds_equal_a_full_rebuild(source: Path, how: str):
    con = _fed_in_batches(source, how)
    assert con.execute("select count(*) from main.reports").fetchone()[0] == \
        con.execute("select count(*) from src.main.reports").fetchone()[0]
    assert _differences(con) == {}


def test_a_new_batch_redoes_only_its_days(source: Path, monkeypatch):
    redone: dict[str, list] = {}

    def note(con, key, sql, ranges) -> int:  # stands for incremental.apply: no rows added
        redone.setdefault(key, ranges)
        return 0
    monkeypatch.setattr(incremental, "apply", note)
    con = duckdb.connect()
    ensure_schema(con)
    con.execute(f"attach '{source}' as src (read_only)")
    last_day = con.execute("select max(report_date) from src.main.reports").fetchone()[0]
    older = [k for (k,) in con.execute("select report_key from src.main.reports where report_date < ?", [last_day]).fetchall()]
    newest = [k for (k,) in con.execute("select report_key from src.main.reports where report_date = ?", [last_day]).fetchall()]
    _commit(con, "batch-2", older, [])
    build_all(con)
    _commit(con, "batch-1", newest, older)
    build_all(con)
    assert redone["staging.reports"] == [(last_day, last_day)]
    assert redone["detect.policy_versions_daily"] == [(last_day, date.max)]  # lookback all: every later day
    assert redone["detect.reporter_success_series"] == [(last_day, last_day)]
    assert redone["detect.failure_rate_daily"] == [(last_day, date.max)]  # runs go on: every later day
    # The gaps that end on the new day or are still open (keyed 9999-12-31): every later day.
    assert redone["detect.reporter_gaps"] == [(last_day, date.max)]
    assert redone["detect.reporter_cadence"] == [(last_day, date.max)]
    assert redone["intermediate.policy_first_sightings"] == [(last_day, date.max)]
    assert redone["detect.mx_failures_daily"] == [(last_day, date.max)]


def test_a_batchs_days_are_looked_up_once(source: Path):
    # The first step that needs a batch's dates joins its keys with every report and keeps what
    # it found in config.batch_days; the next steps (each with its own ledger, as Dagster's
    # asset steps are) read them from there: here the deliveries the lookup joins are gone.
    con = _fed_in_batches(source, "a week at a time")
    batch = con.execute("select min(batch_id) from main.ingest_batches").fetchone()[0]  # the last one committed
    dates = [d for (d,) in con.execute("select distinct report_date from main.reports where batch_id = ? order by 1",
                                       [batch]).fetchall()]
    kept = con.execute("select report_date from config.batch_days where batch_id = ? order by 1 nulls last",
                       [batch]).fetchall()
    assert kept == [(d,) for d in dates] + [(None,)]
    con.execute("delete from main.deliveries where batch_id = ?", [batch])
    assert incremental.touched_days(con, incremental.read_ledger(con), {batch}) == dates


def test_a_changed_model_is_rebuilt_in_full(source: Path):
    # Its shape changed: every day of it is redone, not only the days of new batches (none here).
    con = _fed_in_batches(source, "any order")
    models = load_models()
    model = models["staging.reports"]
    models[model.key] = replace(model, sql=model.sql.replace("/ 60.0 as arrival_lag_hours", "/ 30.0 as arrival_lag_hours"))
    assert models[model.key].sql != model.sql
    build_all(con, models=models, today=date(2026, 4, 15))
    assert _differences(con, models) == {}


BROKEN = {  # model -> (text, its broken replacement, the batch order that shows it)
    # policy_versions_daily's first-seen day of a version moves when a late report applied it
    # earlier: with a look-back of 0 days the later days keep the old one.
    "detect.policy_versions_daily": ("lookback all", "lookback 0 days", "newest first"),
    # A policy's first sighting moves to an earlier day when a late report applied it then: with
    # a look-back of 0 days the later day keeps its row too, and the policy is listed twice.
    "intermediate.policy_first_sightings": ("lookback all", "lookback 0 days", "newest first"),
    # Every type zero-filled over all the domain's days: a type first failing in a new batch adds
    # rows to days no batch touched.
    "detect.failure_rate_series": ("and d.report_date >= s.first_failed", "", "a week at a time"),
    # An MX zero-filled on the domain's days before it first failed: a batch in which it first
    # fails adds rows to earlier days no batch touched.
    "detect.mx_failures_daily": ("and d.report_date >= m.first_failed", "", "a week at a time"),
    # An MX host first known on a day a late report brings keeps its later row too.
    "intermediate.domain_mx": ("lookback all", "lookback 0 days", "newest first"),
    # An MX's baseline is its previous baseline_days days of the domain: older days arriving later
    # lengthen the windows of the days after them, which a look-back of 0 days leaves as they were.
    "detect.mx_failing_days": ("lookback baseline_days", "lookback 0 days", "newest first"),
    # A late report changes the gap of the next report day of its pair, however far on.
    "detect.reporter_day_gaps": ("lookback all", "lookback 0 days", "newest first"),
    # The data's end written into every gap: the closed gaps no build redoes keep an old one.
    "detect.reporter_cadence": ("case when g.next_report_day is null then e.data_through end as data_through",
                                "e.data_through", "a week at a time"),
    # Keyed by the day a gap begins, the gap a late report splits would keep its old row.
    "detect.reporter_gaps": ("g.report_date as gap_end", "g.previous_report_day as gap_end",
                             "one day late, after the days around it"),
}


@pytest.mark.parametrize("key", sorted(BROKEN))
def test_a_broken_look_back_is_caught(source: Path, tmp_path: Path, key: str):
    sql_dir = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql_dir)
    path = sql_dir / key.split(".")[0] / f"{key.split('.')[1]}.sql"
    old, new, how = BROKEN[key]
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    models = load_models(sql_dir)
    con = _fed_in_batches(source, how, models)
    assert key in _differences(con, models)


def _failure_rate_daily(days: list[tuple]) -> dict[date, tuple]:
    """detect.failure_rate_daily's rows over a hand-made series of one domain and type: per day
    (day, failed sessions, elevated, baseline rate) -> day -> (is_anomalous, run_number, run_onset).
    A day with no failed sessions is not failing (whether it is elevated is up to the thresholds)."""
    con = duckdb.connect()
    ensure_schema(con)
    write_config(con, DEFAULTS)
    for schema in ("intermediate", "detect"):
        con.execute(f"create schema {schema}")
    con.execute("create table detect.failure_rate_series as select d as report_date, 'example.test' as policy_domain,"
                " 'certificate-expired' as result_type, 100 as total_session_count, f as failed_sessions,"
                " f / 100 as failure_rate, date_diff('day', date '2000-01-01', d) as day_number, dayofweek(d) as week_day,"
                " e as is_elevated, f > 0 as is_failing,"
                " coalesce(sum(f) over (order by d rows between unbounded preceding and 1 preceding), 0) as failed_before"
                " from (select unnest($1::date[]) as d, unnest($2::int[]) as f, unnest($3::boolean[]) as e)",
                [[d for d, *_ in days], [f for _, f, *_ in days], [e for _, _, e, _ in days]])
    con.execute("create table detect.rate_baselines as select 'failure_rate' as metric, policy_domain,"
                " result_type as subject, report_date, day_number, 28 as baseline_day_count, report_date - 28 as baseline_from,"
                " report_date - 1 as baseline_to, b as baseline_rate, 0.01 as rate_scale from detect.failure_rate_series"
                " join (select unnest($1::date[]) as d, unnest($2::double[]) as b) on d = report_date",
                [[d for d, *_ in days], [b for *_, b in days]])
    con.execute("create table intermediate.failure_causes as select report_date, policy_domain, result_type,"
                " 'certificate_expired' as cause, failed_sessions as failed_session_count, null::varchar as sub_cause,"
                " null::varchar as sending_mta_network, 'google.com' as reporter, report_date::varchar as report_key"
                " from detect.failure_rate_series")
    con.execute("create table intermediate.sessions_once_per_report as select report_date, policy_domain,"
                " 'google.com' as reporter from detect.failure_rate_series")
    rows = con.execute(f"select report_date, is_anomalous, run_number, run_onset from ({load_models()['detect.failure_rate_daily'].sql})").fetchall()
    return {day: tuple(rest) for day, *rest in rows}


def test_a_failing_day_keeps_its_row_when_a_later_day_spikes():
    # failure_rate_daily redoes only the new days: a day failing a little, before a spike in the
    # same run, must read the same whether the spike's day is built yet or not.
    quiet = (date(2026, 3, 1), 3, False, 0.0)
    spike = (date(2026, 3, 2), 50, True, 0.0)
    before, after = _failure_rate_daily([quiet]), _failure_rate_daily([quiet, spike])
    assert after[spike[0]] == (True, 1, spike[0])  # the incident opens on the spike
    assert after[quiet[0]] == before[quiet[0]] == (False, 1, None)


def test_a_day_outside_runs_keeps_the_first_onset_before_it():
    # Runs are numbered over the failing days alone; a day that is not failing belongs to none,
    # yet an elevated one (thresholds of zero) opens an onset the later such days show.
    elevated = (date(2026, 3, 1), 0, True, 0.0)
    quiet = (date(2026, 3, 2), 0, False, 0.0)
    spike = (date(2026, 3, 3), 50, True, 0.0)
    rows = _failure_rate_daily([elevated, quiet, spike])
    assert rows[elevated[0]] == rows[quiet[0]] == (False, None, elevated[0])
    assert rows[spike[0]] == (True, 1, spike[0])
    assert _failure_rate_daily([quiet, spike])[quiet[0]] == (False, None, None)


def test_an_incremental_model_may_not_read_one_rebuilt_in_full():
    models = load_models()
    model = models["detect.problem_signals"]
    models[model.key] = replace(model, sql=model.sql + "\n-- incremental: report_date, lookback 0 days\n")
    with pytest.raises(ValueError, match="reads .*detect.anomalies.*rebuilt in full"):
        incremental.reach(models, build_order(models), DEFAULTS)


def test_asset_steps_after_real_ingests_equal_a_full_rebuild(tmp_path: Path):
    # The Dagster path: real `tlsrpt ingest` batches (mail copies of some reports arrive twice),
    # then one build_one per model in dependency order, as the asset steps run.
    write_corpus(tmp_path / "corpus", seed=2, formats=("files", "eml"))
    inputs = sorted(p for p in (tmp_path / "corpus").rglob("*") if p.is_file())
    settings = Settings(data_dir=tmp_path / "data", today=date(2026, 4, 15))
    models = load_models()
    for part in range(3):
        folder = tmp_path / f"part{part}"
        folder.mkdir()
        for path in inputs[part::3]:
            shutil.copy(path, folder / f"{_bucket(str(path), 10**9)}-{path.name}")
        ingest_into(settings.data_dir, [folder])
        for key in build_order(models):
            build_one(settings, models[key])
    con = connect(settings)
    try:
        assert con.execute("select count(*) from config.built_batches where model = 'staging.reports'").fetchone()[0] == 3
        assert _differences(con, models, settings.today) == {}
    finally:
        con.close()


def test_a_look_back_names_a_number_all_or_a_threshold():
    models = load_models()
    model = models["marts.daily_outcomes"]
    thresholds = {**DEFAULTS, "baseline_days": 28}
    assert incremental.reach(models, build_order(models), thresholds)[model.key] == 0
    models[model.key] = replace(model, sql=model.sql.replace("lookback 0 days", "lookback baseline_days"))
    assert incremental.reach(models, build_order(models), thresholds)[model.key] == 28
    models[model.key] = replace(model, sql=model.sql.replace("lookback 0 days", "lookback a_fortnight"))
    with pytest.raises(ValueError, match="lookback a_fortnight is neither"):
        incremental.reach(models, build_order(models), thresholds)

