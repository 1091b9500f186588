"""Issue 17, several writers: two `tlsrpt ingest` processes with their own data dirs (two
machines) load overlapping inputs into one lake at the same time (a PostgreSQL catalog, one
shared data folder) while a third process reads it; every report counts exactly once. And a
writer that cannot reach the catalog or write the data path stops in one line with exit 3,
commits nothing and keeps its inputs for the next run."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assets.checks import CHECKS, RECONCILIATIONS
from pipeline.generate import write_corpus
from pipeline.settings import Settings
from pipeline.store import empty_tables, lake
from pipeline.store.settled_deliveries import SETTLED
from pipeline.transform.sql_models import kept_tables, load_models, refresh_all

ROOT = Path(__file__).resolve().parents[2]

# Reads the newest snapshot again and again until the stop file appears; prints reads and errors.
READER = (
    "import sys, time; from pathlib import Path; from pipeline.settings import Settings; "
    "from pipeline.store import lake\n"
    "con = lake.open_lake(Settings(), read_only=True); print('ready', flush=True); reads = errors = 0\n"
    "while not Path(sys.argv[1]).exists():\n"
    "    try:\n"
    "        con.execute('select count(*), count(distinct report_key) from reports').fetchall(); reads += 1\n"
    "    except Exception as exc:\n"
    "        errors += 1; print(exc, file=sys.stderr)\n"
    "    time.sleep(0.05)\n"
    "print(reads, errors)"
)


def _env(data_dir: Path, catalog: str, data_path: str) -> dict[str, str]:
    # Small batches: many commits from each writer, interleaved, and the lookups of one writer
    # falling between the other's commits.
    return {**os.environ, "TLSRPT_DATA_DIR": str(data_dir), "TLSRPT_CATALOG": catalog,
            "TLSRPT_DATA_PATH": data_path, "TLSRPT_BATCH_PARTS": "25", "TLSRPT_WORKERS": "1"}


def _ingest(env: dict[str, str], inputs: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", "ingest", "--no-models", str(inputs)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _split(files: list[Path], tmp_path: Path) -> tuple[Path, Path, int]:
    """Half of the files to both machines, the rest to one or the other. The shared half in
    opposite orders: the two writers meet in its middle, each loading what the other is
    loading, instead of one trailing the other and finding everything loaded."""
    shuffled = sorted(files)
    random.Random(5).shuffle(shuffled)
    shared, own = shuffled[: len(files) // 2], shuffled[len(files) // 2:]
    inputs = []
    for machine, mine in (("a", own[0::2]), ("b", own[1::2])):
        folder = tmp_path / f"inputs-{machine}"
        for number, path in enumerate((shared if machine == "a" else shared[::-1]) + mine):
            target = folder / f"{number:05d}-{path.name}"  # the walk takes them in this order
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        inputs.append(folder)
    return inputs[0], inputs[1], len(shared)


def test_two_writers_with_overlapping_inputs_load_every_report_once(postgres, tmp_path: Path):
    truth = write_corpus(tmp_path / "corpus", domains=4, days=30, seed=11, formats=("files",))
    files = [p for p in (tmp_path / "corpus" / "files").rglob("*") if p.is_file()]
    inputs_a, inputs_b, shared = _split(files, tmp_path)
    catalog, data_path = postgres.create_database("writers"), f"{tmp_path}/shared-lake/"
    env_a, env_b = (_env(tmp_path / f"machine-{m}", catalog, data_path) for m in "ab")

    # One machine makes the lake first (an empty run): two first attaches at once would both create the catalog.
    (tmp_path / "nothing").mkdir()
    made = _ingest(env_a, tmp_path / "nothing")
    assert made.wait(timeout=300) == 0, made.stderr.read()[-2000:]
    stop = tmp_path / "stop-reading"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(stop)], cwd=ROOT,
                              env=_env(tmp_path / "reader", catalog, data_path),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "ready", reader.stderr.read()[-2000:]
    writer_a, writer_b = _ingest(env_a, inputs_a), _ingest(env_b, inputs_b)
    results = [writer.communicate(timeout=600) + (writer.returncode,) for writer in (writer_a, writer_b)]
    stop.touch()
    reader_out, reader_err = reader.communicate(timeout=120)
    for out, err, code in results:
        assert code == 0, err[-2000:]
    reads, errors = map(int, reader_out.split()[-2:])
    assert reader.returncode == 0 and errors == 0 and reads > 0, reader_err[-2000:]

    settings = Settings(data_dir=tmp_path / "machine-a", catalog=catalog, data_path=data_path)
    refresh_all(settings)
    con = lake.open_lake(settings, read_only=True)
    try:
        def one(sql: str) -> tuple:
            return con.execute(sql).fetchone()

        # every report once in staging and the marts, whatever the interleaving
        assert one("select count(*), count(distinct report_key) from staging.reports") == (truth.reports, truth.reports)
        assert one("select count(distinct report_key) from reports") == (truth.reports,)  # none lost
        assert one("select count(*) from (select report_key from reports except select report_key from staging.reports)") == (0,)
        assert one("select sum(successful_session_count), sum(failed_session_count) from marts.daily_outcomes") == (
            truth.successful_sessions, truth.failed_sessions)
        assert one("select sum(successful_session_count), sum(failed_session_count) from marts.daily_domain_sessions") == (
            truth.successful_sessions_dedup, truth.failed_sessions_dedup)
        assert one("select sum(report_count) from marts.reporter_health") == (truth.reports,)
        # every input of both machines has its deliveries row; settled, each report is loaded once
        per_machine = dict(con.execute(
            "select regexp_extract(origin, 'inputs-([ab])', 1), count(*) from deliveries group by 1").fetchall())
        assert per_machine == {"a": len(list(inputs_a.iterdir())), "b": len(list(inputs_b.iterdir()))}
        settled = dict(con.execute(f"select outcome, count(*) from ({SETTLED}) group by 1").fetchall())
        assert settled == {"loaded": truth.reports, "duplicate": shared}
        raced = one("select count(*) - count(distinct report_key) from reports")[0]
        for _, name, sql, *_ in CHECKS:
            assert con.execute(sql).fetchall() == [(0,)], name
        for _, name, sql, *_ in RECONCILIATIONS:
            assert con.execute(sql).fetchall() == [], name
        # the empty tables a day's build keeps (the posture models here) got statistics on this catalog too
        assert empty_tables.give_models_statistics(con, kept_tables(load_models())) == []
    finally:
        con.close()
    print(f"{shared} shared inputs, {raced} loaded by both writers, {reads} reads during the writes")


@pytest.mark.parametrize("fault", ["catalog unreachable", "data path not writable"])
def test_a_writer_that_cannot_write_stops_in_one_line_and_the_next_run_loads_everything(postgres, tmp_path: Path, fault: str):
    write_corpus(tmp_path / "corpus", domains=2, days=3, seed=3, formats=("files",))
    inputs = tmp_path / "corpus" / "files"
    catalog, data_path = postgres.create_database(f"fault_{fault.split()[1]}"), tmp_path / "lake-data"
    good = _env(tmp_path / "data", catalog, f"{data_path}/")
    if fault == "catalog unreachable":
        bad = {**good, "TLSRPT_CATALOG": catalog.replace(f"port={postgres.port}", f"port={_free_port()}")}
    else:  # a file where the data folder should be (chmod would not stop root)
        data_path.write_text("not a folder")
        bad = {**good, "TLSRPT_DATA_PATH": f"{data_path}/lake/"}
    failed = _ingest(bad, inputs)
    out, err = failed.communicate(timeout=300)
    if fault != "catalog unreachable":
        data_path.unlink()
    assert failed.returncode == 3, (out, err)
    message = [line for line in (out + err).splitlines() if line.strip()]
    assert len(message) == 1 and "Traceback" not in err, message
    assert postgres.password not in message[0]

    done = _ingest(good, inputs)
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err[-2000:]
    settings = Settings(data_dir=tmp_path / "data", catalog=catalog, data_path=f"{data_path}/")
    con = lake.open_lake(settings, read_only=True)
    try:
        inputs_count = len([p for p in inputs.rglob("*") if p.is_file()])
        # nothing half-committed by the failed run, nothing lost: every input stored and each report
        # loaded once (a pack the failed run landed is replayed; the same inputs again are duplicates)
        assert con.execute("select count(distinct raw_sha256) from deliveries").fetchone() == (inputs_count,)
        assert con.execute("select count(*), count(distinct report_key) from reports").fetchone() == (inputs_count, inputs_count)
        assert con.execute("select count(*) - count(distinct batch_id) from ingest_batches").fetchone() == (0,)
    finally:
        con.close()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_writer_killed_on_a_shared_lake_loses_nothing_and_a_rerun_gives_the_clean_result(postgres, tmp_path: Path):
    """kill -9 once the first pack is landed (its batch committing or about to): the lake shows
    whole batches only, and the rerun (replaying that pack, then the inputs again) loads each
    report once."""
    truth = write_corpus(tmp_path / "corpus", reports=1200, seed=5, formats=("files",))  # 3 batches (500 inputs each)
    inputs = tmp_path / "corpus" / "files"
    catalog, data_path = postgres.create_database("killed"), f"{tmp_path}/shared-lake/"
    env = _env(tmp_path / "machine", catalog, data_path)
    writer = _ingest(env, inputs)
    packs = tmp_path / "machine" / "landing" / "packs"
    while writer.poll() is None and not (packs.is_dir() and any(packs.iterdir())):
        time.sleep(0.01)
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=60)
    settings = Settings(data_dir=tmp_path / "machine", catalog=catalog, data_path=data_path)
    con = lake.open_lake(settings, read_only=True)
    try:  # whole batches only: every committed batch has all its deliveries
        assert con.execute("select count(*) from ingest_batches b join (select batch_id, count(*) n from deliveries"
                           " group by 1) d using (batch_id) where d.n <> b.inputs").fetchone() == (0,)
    finally:
        con.close()

    rerun = _ingest(env, inputs)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err[-2000:]
    refresh_all(settings)
    con = lake.open_lake(settings, read_only=True)
    try:
        assert con.execute("select count(*), count(distinct report_key) from staging.reports").fetchone() == (
            truth.reports, truth.reports)
        assert con.execute("select sum(successful_session_count), sum(failed_session_count) from marts.daily_outcomes"
                           ).fetchone() == (truth.successful_sessions, truth.failed_sessions)
        assert con.execute(f"select count(*) from ({SETTLED}) where outcome = 'loaded'").fetchone() == (truth.reports,)
    finally:
        con.close()


def test_a_shared_lake_is_recreated_from_every_machines_packs(postgres, tmp_path: Path):
    """`tlsrpt rebuild` on a shared lake: both machines point at a new, empty catalog and data
    path and replay their landing packs into it, at the same time; the new lake holds what the
    old one held, each report once."""
    truth = write_corpus(tmp_path / "corpus", domains=3, days=10, seed=21, formats=("files",))
    files = [p for p in (tmp_path / "corpus" / "files").rglob("*") if p.is_file()]
    inputs_a, inputs_b, shared = _split(files, tmp_path)
    old = postgres.create_database("before_rebuild"), f"{tmp_path}/old-lake/"
    (tmp_path / "nothing").mkdir()
    made = _ingest(_env(tmp_path / "machine-a", *old), tmp_path / "nothing")
    assert made.wait(timeout=300) == 0, made.stderr.read()[-2000:]
    for machine, inputs in (("a", inputs_a), ("b", inputs_b)):
        loaded = _ingest(_env(tmp_path / f"machine-{machine}", *old), inputs)
        assert loaded.wait(timeout=600) == 0, loaded.stderr.read()[-2000:]
    refresh_all(Settings(data_dir=tmp_path / "machine-a", catalog=old[0], data_path=old[1]))

    new = postgres.create_database("after_rebuild"), f"{tmp_path}/new-lake/"
    first = _rebuild(_env(tmp_path / "machine-a", *new))  # makes the new lake: two first attaches would both create it
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-2000:]
    assert "shared lake: this machine's landing packs were replayed" in out
    second = _rebuild(_env(tmp_path / "machine-b", *new))
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, err[-2000:]

    def answers(catalog: str, data_path: str) -> tuple:
        settings = Settings(data_dir=tmp_path / "machine-a", catalog=catalog, data_path=data_path)
        con = lake.open_lake(settings, read_only=True)
        try:
            return (con.execute("select count(distinct report_key), sum(successful_session_count),"
                                " sum(failed_session_count) from staging.policies").fetchone(),
                    con.execute(f"select outcome, count(*) from ({SETTLED}) group by 1 order by 1").fetchall(),
                    con.execute("select count(*), count(distinct report_key) from staging.reports").fetchone())
        finally:
            con.close()

    after = answers(*new)
    assert after == answers(*old)
    assert after[0][0] == truth.reports and after[2] == (truth.reports, truth.reports)
    assert dict(after[1])["loaded"] == truth.reports
    assert (Path(new[1]) / "main").is_dir()  # the new data path holds the new lake's files


def _rebuild(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", "rebuild"], cwd=ROOT, env={**env, "COLUMNS": "400"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
