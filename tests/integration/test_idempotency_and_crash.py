"""Re-running is idempotent, and a run killed at any point loses and tears nothing: the lake
shows its last committed snapshot, and a rerun gives the clean result."""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

import pipeline.ingest
from pipeline.generate import write_corpus
from pipeline.parse import worker
from pipeline.posture.result import CheckResult
from pipeline.settings import Settings
from pipeline.store.lake import LakeUnavailable
from pipeline.store.landing import read_object, read_pack
from pipeline.store.posture_history import record
from tests.conftest import ingest_into, query
from tests.fixtures.builders import valid_report

FIXTURES = Path(__file__).parents[1] / "fixtures" / "reports"

# batch_id names the run's own batch: equal rows from two data dirs differ only there.
CORE_SNAPSHOT = {
    "reports": "select * exclude (received_at, batch_id) from reports order by report_key",
    "policies": "select * exclude (batch_id) from policies order by report_key, policy_index",
    "failure_details": "select * exclude (batch_id) from failure_details order by report_key, policy_index, detail_index",
}


def snapshot(data_dir: Path) -> dict[str, list[tuple]]:
    return {name: query(data_dir, sql) for name, sql in CORE_SNAPSHOT.items()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    write_corpus(out, domains=12, days=60, seed=7, formats=("files", "eml"))
    return out


@pytest.fixture(scope="module")
def clean_run(corpus: Path, tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("clean")
    ingest_into(data_dir, [corpus], workers=2)
    return data_dir


def test_second_ingest_changes_no_table_and_marks_every_arrival_duplicate(corpus: Path, clean_run: Path, tmp_path: Path):
    data_dir = tmp_path / "data"
    first = ingest_into(data_dir, [corpus], workers=2)
    before = snapshot(data_dir)
    second = ingest_into(data_dir, [corpus], workers=2)
    assert snapshot(data_dir) == before
    assert second.loaded == 0
    assert second.quarantined == first.quarantined == {"not_a_tls_report": 1}  # ground_truth.json
    assert second.duplicates == first.loaded + first.duplicates
    by_batch = query(
        data_dir,
        "select outcome, reason_code, count(*) from deliveries where batch_id in"
        " (select batch_id from ingest_batches order by committed_at desc limit (select count(*) from ingest_batches) // 2)"
        " group by all",
    )
    assert {(o, r) for o, r, _ in by_batch} <= {
        ("duplicate", "same_bytes"), ("duplicate", "same_report"), ("quarantined", "not_a_tls_report"),
    }
    assert snapshot(clean_run) == before  # the same as another clean run, too


def test_the_workers_parse_while_the_lake_opens_and_nothing_is_lost_or_reordered(corpus: Path, clean_run: Path,
                                                                                  tmp_path: Path, monkeypatch):
    opened = pipeline.ingest.connect

    def slow_to_open(settings, *args, **kwargs):
        time.sleep(1.0)  # a remote catalog: chunks are parsed meanwhile and taken in order after
        return opened(settings, *args, **kwargs)

    monkeypatch.setattr(pipeline.ingest, "CHUNK_INPUTS", 8)
    monkeypatch.setattr(pipeline.ingest, "connect", slow_to_open)
    data_dir = tmp_path / "data"
    summary = ingest_into(data_dir, [corpus], workers=2)
    assert snapshot(data_dir) == snapshot(clean_run)
    origins = [row[0] for row in query(data_dir, "select origin from deliveries order by batch_id, delivery_id")]
    clean_origins = [row[0] for row in query(clean_run, "select origin from deliveries order by batch_id, delivery_id")]
    assert summary.inputs == len(origins) and sorted(origins) == sorted(clean_origins)
    # the arrival order (which deduplication follows) is the walk's, as in the clean run
    by_seq = query(data_dir, "select origin from deliveries order by batch_id,"
                             " split_part(delivery_id, ':', 2)::int, part_index")
    clean_by_seq = query(clean_run, "select origin from deliveries order by batch_id,"
                                    " split_part(delivery_id, ':', 2)::int, part_index")
    assert by_seq == clean_by_seq


def test_a_lake_that_fails_to_open_while_the_workers_parse_stops_the_run_with_nothing_landed(corpus: Path, tmp_path: Path,
                                                                                              monkeypatch):
    def unreachable(settings, *args, **kwargs):
        time.sleep(0.5)
        raise LakeUnavailable("the catalog cannot be reached")

    monkeypatch.setattr(pipeline.ingest, "connect", unreachable)
    data_dir = tmp_path / "data"
    with pytest.raises(LakeUnavailable, match="cannot be reached"):
        ingest_into(data_dir, [corpus], workers=2)
    assert not list(data_dir.glob("landing/packs/*"))


def test_a_run_with_nothing_new_finishes_a_crashed_batch_whose_input_kills_its_parser(tmp_path: Path, monkeypatch):
    """A batch a crash left landed but uncommitted is finished by the next run, even one with
    nothing to read, and parsed by worker processes there too: an input that kills whoever parses
    it costs one worker and is quarantined, never the committing process (which would die on it
    again at every run). A run with nothing new forking no workers was tried and undone for this."""
    inbox, empty = tmp_path / "inbox", tmp_path / "empty"
    inbox.mkdir()
    empty.mkdir()
    for n in range(5):
        (inbox / f"good-{n}.json").write_bytes(valid_report(f"good-{n}"))
    (inbox / "poison.json").write_bytes(valid_report("poison"))
    data_dir, committed = tmp_path / "data", pipeline.ingest.write_batch

    def crash(*args, **kwargs):
        raise RuntimeError("killed between the pack and its commit")

    monkeypatch.setattr(pipeline.ingest, "write_batch", crash)
    with pytest.raises(RuntimeError, match="killed"):
        ingest_into(data_dir, [inbox], workers=2)
    monkeypatch.setattr(pipeline.ingest, "write_batch", committed)
    parent, real_process_input = os.getpid(), worker.process_input

    def deadly(ref, *args, **kwargs):  # inherited by the forked workers
        if ref.origin.endswith("poison.json"):
            if os.getpid() == parent:
                pytest.fail("parsed in the committing process, where a crash takes the run down")
            os.kill(os.getpid(), signal.SIGKILL)
        return real_process_input(ref, *args, **kwargs)

    monkeypatch.setattr(worker, "process_input", deadly)
    summary = ingest_into(data_dir, [empty], workers=2)
    assert summary.replayed_batches == 1
    assert summary.quarantined == {"worker_died": 1}
    assert query(data_dir, "select count(*) from reports") == [(5,)]


def test_eml_and_json_gz_copies_of_one_report_are_stored_once(clean_run: Path):
    reasons = dict(query(clean_run, "select reason_code, count(*) from deliveries where outcome = 'duplicate' group by 1"))
    assert reasons.get("same_report", 0) > 0  # the generator mails ~20 % of reports as well
    assert query(clean_run, "select count(*) - count(distinct report_key) from reports") == [(0,)]


def test_rebuild_from_the_landing_zone_alone_gives_the_same_tables(corpus: Path, tmp_path: Path):
    data_dir = tmp_path / "data"
    ingest_into(data_dir, [corpus], workers=2)
    before = snapshot(data_dir)
    deliveries_before = query(data_dir, "select * exclude (ingested_at, ingested_date) from deliveries order by delivery_id")
    shutil.rmtree(data_dir / "lake")
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "rebuild", "--data-dir", str(data_dir)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert snapshot(data_dir) == before
    assert query(data_dir, "select * exclude (ingested_at, ingested_date) from deliveries order by delivery_id") == deliveries_before


def _packs_are_whole(data_dir: Path) -> None:
    folder = data_dir / "landing" / "packs"
    assert not list(folder.glob(".tmp-*")), "stray temp pack"
    packs = sorted(folder.glob("*.pack"))
    assert packs
    for pack in packs:
        for entry in read_pack(pack):  # raises on a torn pack
            if entry.offset is not None:
                data = read_object(data_dir, str(pack.relative_to(data_dir)), entry.offset, entry.stored)
                assert hashlib.sha256(data).hexdigest() == entry.arrival.sha256, f"torn object in {pack}"
    stored = query(data_dir, "select count(*), count(distinct raw_sha256) from raw_objects")[0]
    assert stored[0] == stored[1], "an input's bytes are stored twice"


def _packs(folder: Path) -> int:
    return len(list(folder.glob("*.pack"))) if folder.is_dir() else 0


def _lake_files(data_dir: Path) -> int | None:
    """How many data files the lake holds: a batch writes its Parquet files first, then commits
    them to the catalog."""
    folder = data_dir / "lake" / "data"
    return sum(1 for _ in folder.rglob("*.parquet")) or None if folder.is_dir() else None


KILLS = 4


@pytest.mark.timeout(240)
def test_killed_runs_then_a_rerun_equal_a_clean_run(corpus: Path, clean_run: Path, tmp_path: Path):
    data_dir = tmp_path / "data"
    env = {**os.environ, "TLSRPT_BATCH_PARTS": "150", "TLSRPT_WORKERS": "2"}
    command = [sys.executable, "-m", "pipeline", "ingest", "--data-dir", str(data_dir), str(corpus)]
    rng = random.Random(11)
    packs = data_dir / "landing" / "packs"
    kills = attempts = 0
    # Each kill is triggered by an event, not a clock: the run's start, or 1-3 more packs landing
    # (a pack is written before its batch commits, so the kill falls between the two), or, half
    # the time, the next data file the lake writes after that (the kill falls between a batch's
    # Parquet files and its catalog commit, or inside it). The
    # group is frozen first, so "still running" is read at the event itself; a run that ends
    # before its event is a complete run, and the next attempt tries again.
    while kills < KILLS and attempts < 3 * KILLS:
        target = 0 if attempts == 0 else _packs(packs) + rng.randint(1, 3)
        attempts += 1
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        while process.poll() is None and _packs(packs) < target:
            time.sleep(0.001)
        if target and rng.random() < 0.5:
            mark = _lake_files(data_dir)
            while process.poll() is None and _lake_files(data_dir) in (mark, None):
                time.sleep(0.001)
        try:
            os.killpg(process.pid, signal.SIGSTOP)  # the whole group: parent and its workers
        except ProcessLookupError:  # the run had ended and its group is gone
            pass
        else:
            kills += process.poll() is None
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert kills == KILLS, f"{attempts} runs ended before their kill event: make the corpus bigger"
    final = subprocess.run(command, env=env, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    assert snapshot(data_dir) == snapshot(clean_run)
    _packs_are_whole(data_dir)
    # Every input of the corpus has at least one delivery row: nothing was lost on the way.
    inputs = {str(p) for p in corpus.rglob("*") if p.is_file() and not p.name.startswith(".") and p.suffix != ".json"}
    seen = {row[0] for row in query(data_dir, "select distinct origin from deliveries")}
    assert inputs <= seen
    # The lake's files are plain Parquet any engine reads; the catalog says which are current (a
    # killed batch's files, written but never committed, lie beside them and count for nothing).
    assert parquet_rows(data_dir, "reports") == query(data_dir, "select count(*) from reports")[0][0]


def parquet_rows(data_dir: Path, table: str) -> int:
    """Rows of `table` read straight from its current Parquet files, with no lake extension."""
    files = [path for (path,) in query(data_dir, f"select data_file from ducklake_list_files('lake', '{table}')")]
    assert files and all(Path(path).is_relative_to(data_dir / "lake" / "data" / "main" / table) for path in files)
    return duckdb.connect().execute("select count(*) from read_parquet($1)", [files]).fetchone()[0]


def test_a_second_run_adds_month_partitioned_files_and_rewrites_none(corpus: Path, tmp_path: Path):
    """Half the corpus, then all of it: the lake's data files sit in month folders of their
    table, the second run only adds files (the first run's stay current, untouched), and each
    table's current files hold exactly its rows."""
    data_dir = tmp_path / "data"
    files = sorted(corpus.rglob("*.json.gz"), key=lambda p: int(p.name.split("!")[2]))  # RFC names: by begin time
    first_half = tmp_path / "half"
    first_half.mkdir()
    for path in files[: len(files) // 2]:  # the earlier days
        (first_half / path.name).write_bytes(path.read_bytes())
    ingest_into(data_dir, [first_half], workers=2)
    current = "select data_file from ducklake_list_files('lake', 'reports')"
    first = {path: Path(path).stat().st_mtime_ns for (path,) in query(data_dir, current)}
    ingest_into(data_dir, [corpus], workers=2)
    second = {path for (path,) in query(data_dir, current)}
    assert set(first) < second
    assert all(Path(path).stat().st_mtime_ns == mtime for path, mtime in first.items())
    assert all(re.search(r"/reports/year=\d{4}/month=\d{1,2}/[^/]+\.parquet$", path) for path in second)
    for table in ("reports", "policies", "failure_details", "deliveries"):
        assert parquet_rows(data_dir, table) == query(data_dir, f"select count(*) from {table}")[0][0] > 0


def test_posture_checks_survive_a_rebuild(tmp_path: Path):
    """The packs hold every report, not the posture checks: a rebuild carries them over."""
    data_dir = tmp_path / "data"
    ingest_into(data_dir, [FIXTURES])
    checked = datetime(2026, 3, 1, tzinfo=timezone.utc)
    record(Settings(data_dir=data_dir), [CheckResult("mx", "d.test", "d.test", "ok", "found", "1 host",
                                                     facts={"hosts": ["mx1.d.test"]}, checked_at=checked)])
    before = query(data_dir, "select * from posture_checks")
    result = subprocess.run([sys.executable, "-m", "pipeline", "rebuild", "--data-dir", str(data_dir)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert query(data_dir, "select * from posture_checks") == before
    assert query(data_dir, "select count(*) from reports")[0][0] > 0
    assert not (data_dir / "lake.before-rebuild").exists()


@pytest.mark.timeout(120)  # a safety net: with multiprocessing.Pool this run waited for ever
def test_a_worker_killed_mid_ingest_costs_only_the_input_it_died_on(tmp_path: Path, monkeypatch):
    """kill -9 of parser workers in the middle of an ingest (issue 15, item 3): `flaky` kills
    its worker once (as the OOM killer might), `poison` every time. The run completes; every
    input is loaded, except `poison`, quarantined as worker_died with its bytes kept."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(30):
        (inbox / f"good-{n:02}.json").write_bytes(valid_report(f"good-{n}"))
    (inbox / "flaky.json").write_bytes(valid_report("flaky"))
    (inbox / "poison.json").write_bytes(valid_report("poison"))
    died_once = tmp_path / "flaky-died-once"
    real_process_input = worker.process_input

    def deadly(ref, *args, **kwargs):  # inherited by the forked workers
        if ref.path.endswith("poison.json") or (ref.path.endswith("flaky.json") and not died_once.exists()):
            died_once.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return real_process_input(ref, *args, **kwargs)

    monkeypatch.setattr(worker, "process_input", deadly)
    monkeypatch.setattr(pipeline.ingest, "CHUNK_INPUTS", 8)  # the dead workers' chunks hold good inputs too
    data_dir = tmp_path / "data"
    summary = ingest_into(data_dir, [inbox], workers=2)

    assert summary.inputs == 32
    assert summary.loaded == 31
    assert summary.quarantined == {"worker_died": 1}
    rows = query(data_dir, "select origin, outcome, reason_code, o.raw_sha256 is not null from deliveries"
                           " left join raw_objects o using (raw_sha256) where outcome <> 'loaded'")
    assert rows == [(str(inbox / "poison.json"), "quarantined", "worker_died", True)]
    assert query(data_dir, "select count(*) from reports") == [(31,)]


def test_a_data_dir_from_before_the_lake_is_upgraded_by_one_rebuild(tmp_path: Path):
    """A DuckDB file of an older version beside its packs: ingest says what to do, in one line;
    `tlsrpt rebuild` makes the lake from the packs, keeps the file's posture checks, removes it."""
    data_dir = tmp_path / "data"
    ingest_into(data_dir, [FIXTURES])
    reports = query(data_dir, "select count(*) from reports")
    shutil.rmtree(data_dir / "lake")
    old = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    old.execute("create table posture_checks as select 'r1' as run_id, timestamptz '2026-03-01 00:00:00+00' as checked_at,"
                " 'd.test' as domain, 'mx' as check_name, 'd.test' as target, 'ok' as verdict, 'found' as reason,"
                " '1 host' as detail, '' as raw_answer, '{}' as facts")
    old.close()
    tlsrpt = [sys.executable, "-m", "pipeline"]
    refused = subprocess.run([*tlsrpt, "ingest", "--data-dir", str(data_dir), str(FIXTURES)], capture_output=True, text=True)
    assert refused.returncode == 3 and "run `tlsrpt rebuild`" in refused.stderr and "Traceback" not in refused.stderr
    result = subprocess.run([*tlsrpt, "rebuild", "--data-dir", str(data_dir)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert query(data_dir, "select count(*) from reports") == reports
    assert query(data_dir, "select run_id, domain, verdict from posture_checks") == [("r1", "d.test", "ok")]
    assert not (data_dir / "warehouse.duckdb").exists()
