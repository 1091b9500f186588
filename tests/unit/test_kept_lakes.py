"""One DuckDB database per lake and process (pipeline/store/kept_lakes.py): open_lake hands out
cursors of it, and the database is attached anew whenever the kept one could mislead."""

from __future__ import annotations

import os
import shutil

import duckdb
import pytest

from pipeline.settings import Settings
from pipeline.store import kept_lakes, lake


@pytest.fixture(autouse=True)
def no_kept_lakes():
    lake.forget()
    yield
    lake.forget()


def _mark(con: duckdb.DuckDBPyConnection) -> None:
    """Attach a database named `marker`: attachments belong to the database, not the cursor."""
    con.execute("attach ':memory:' as marker")


def _marked(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("select count(*) from duckdb_databases() where database_name = 'marker'").fetchone()[0] == 1


def _lake_with_rows(settings: Settings, rows: int) -> None:
    con = lake.open_lake(settings)
    try:
        con.execute("create table if not exists t (x integer)")
        con.execute("insert into t select range from range(?)", [rows])
    finally:
        con.close()


def test_a_second_open_is_a_cursor_of_the_same_database(tmp_path):
    settings = Settings(data_dir=tmp_path)
    first = lake.open_lake(settings)
    _mark(first)
    first.close()  # closes the cursor only
    second = lake.open_lake(settings)
    assert _marked(second)
    assert second.execute("select current_database()").fetchone() == (lake.ALIAS,)
    second.close()


def test_threads_and_memory_are_set_by_each_open(tmp_path):
    settings = Settings(data_dir=tmp_path)
    wide = lake.open_lake(settings, threads=2, memory_limit="300MB")
    setting = "select current_setting('threads'), current_setting('memory_limit')"
    as_opened = wide.execute(setting).fetchone()
    assert as_opened[0] == 2
    narrow = lake.open_lake(settings, threads=1, memory_limit="400MB")
    now = narrow.execute(setting).fetchone()
    assert now[0] == 1 and now[1] != as_opened[1]
    assert wide.execute(setting).fetchone() == now  # the database's settings, not the cursor's


def test_readers_see_the_writers_commits_and_a_pinned_snapshot_does_not_move(tmp_path):
    settings = Settings(data_dir=tmp_path)
    _lake_with_rows(settings, 3)
    # fetchall: a result read in part keeps its transaction, and the SQLite catalog's lock, open
    reader = lake.open_lake(settings, read_only=True)
    ((before,),) = reader.execute(f"select id from {lake.ALIAS}.current_snapshot()").fetchall()
    _lake_with_rows(settings, 2)
    assert reader.execute("select count(*) from t").fetchall() == [(5,)]
    pinned = lake.open_lake(settings, read_only=True, snapshot=before)
    assert pinned.execute("select count(*) from t").fetchall() == [(3,)]
    assert lake.open_lake(settings, read_only=True).execute("select count(*) from t").fetchall() == [(5,)]


def test_a_lake_removed_and_made_again_is_attached_anew(tmp_path):
    settings = Settings(data_dir=tmp_path)
    _lake_with_rows(settings, 3)
    old = lake.open_lake(settings, read_only=True)
    _mark(old)
    shutil.rmtree(tmp_path / "lake")
    with pytest.raises(lake.LakeUnavailable, match="no warehouse yet"):
        lake.open_lake(settings, read_only=True)
    _lake_with_rows(settings, 1)  # a new lake at the same place: its own catalog file
    new = lake.open_lake(settings, read_only=True)
    assert not _marked(new)
    assert new.execute("select count(*) from t").fetchone() == (1,)


def test_a_failed_attach_is_not_kept(tmp_path):
    settings = Settings(data_dir=tmp_path)
    catalog = lake.location(settings).embedded_catalog
    catalog.parent.mkdir(parents=True)
    catalog.write_bytes(b"not a SQLite database")
    kept = kept_lakes.kept_count()
    with pytest.raises(lake.LakeUnavailable, match="cannot open the warehouse"):
        lake.open_lake(settings)
    assert kept_lakes.kept_count() == kept
    catalog.unlink()
    _lake_with_rows(settings, 2)  # tried again, and made
    assert lake.open_lake(settings, read_only=True).execute("select count(*) from t").fetchone() == (2,)


def test_forget_lets_go_and_handed_out_connections_keep_working(tmp_path):
    settings = Settings(data_dir=tmp_path)
    _lake_with_rows(settings, 4)
    held = lake.open_lake(settings, read_only=True)
    _mark(held)
    lake.forget(settings)
    fresh = lake.open_lake(settings, read_only=True)
    assert not _marked(fresh)
    assert held.execute("select count(*) from t").fetchone() == (4,)


def test_at_most_keep_databases_and_the_oldest_still_answers(tmp_path):
    lakes = [Settings(data_dir=tmp_path / str(n)) for n in range(kept_lakes.KEEP + 1)]
    first = lake.open_lake(lakes[0])
    first.execute("create table t as select 1 as x")
    for settings in lakes[1:]:
        lake.open_lake(settings).close()
    assert kept_lakes.kept_count() == kept_lakes.KEEP
    assert first.execute("select x from t").fetchone() == (1,)
    again = lake.open_lake(lakes[0])  # let go as the least recently used: attached anew
    assert again.execute("select x from t").fetchone() == (1,)


def test_a_forked_child_never_uses_the_parents_database(tmp_path):
    settings = Settings(data_dir=tmp_path)
    _lake_with_rows(settings, 3)
    _mark(lake.open_lake(settings, read_only=True))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: it must start with nothing kept, and open a database of its own
        try:
            con = lake.open_lake(settings, read_only=True)
            answer = f"{kept_lakes.kept_count()} {_marked(con)} {con.execute('select count(*) from t').fetchone()[0]}"
        except BaseException as exc:  # reported to the parent, which fails the test
            answer = repr(exc)
        os.write(write_end, answer.encode())
        os._exit(0)
    os.close(write_end)
    answer = os.read(read_end, 1000).decode()
    os.waitpid(pid, 0)
    assert answer == "1 False 3"
