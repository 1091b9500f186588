"""The DuckDB file: schema, the single-writer lock, and batch writes of the core tables.

DuckDB allows one read-write process per file and a writer also blocks readers, so
every writer takes `<data>/.writer.lock` first and fails fast with a clear message instead of
DuckDB's ~100 s retry loop. A batch is one transaction: its rows, its deliveries, its pack's
id and its stale Parquet partitions commit together or not at all.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa

from pipeline.store.schema_comments import COLUMNS, TABLES


class WarehouseBusy(RuntimeError):
    """Another process is writing to the warehouse."""


_HELD_LOCKS: set[int] = set()  # file descriptors of the writer locks this process holds


def _drop_inherited_locks() -> None:
    """In a forked child (a parser worker): let go of the parent's lock. flock belongs to the
    open file, which a child shares, so a worker left behind by a killed run would keep the
    warehouse locked. The descriptor is pointed at /dev/null rather than closed, so that its
    number is never reused while the parent's file object still names it."""
    if _HELD_LOCKS:
        null = os.open(os.devnull, os.O_RDONLY)
        for fd in _HELD_LOCKS:
            os.dup2(null, fd)
        os.close(null)
        _HELD_LOCKS.clear()


os.register_at_fork(after_in_child=_drop_inherited_locks)


@contextmanager
def writer_lock(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    lock_path = data_dir / ".writer.lock"
    handle = open(lock_path, "a+")
    _HELD_LOCKS.add(handle.fileno())
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise WarehouseBusy(f"another tlsrpt run is writing to {data_dir} (pid {holder}); try again when it ends") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        _HELD_LOCKS.discard(handle.fileno())
        handle.close()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


SCHEMA_VERSION = 2  # bump with a migration when schema.sql changes for existing warehouses


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables and their comments once; later connections only check the version
    (the ~100 COMMENT statements cost half a second on every start otherwise)."""
    found = con.execute(
        "select count(*) from duckdb_tables() where table_name = 'schema_info' and schema_name = 'main'"
    ).fetchone()[0]
    if found and con.execute("select max(version) from schema_info").fetchone()[0] == SCHEMA_VERSION:
        return
    con.execute("begin transaction")
    con.execute(resources.files("pipeline.store").joinpath("schema.sql").read_text())
    # COMMENT ON takes no bound parameters; the texts are our own constants, quoted here.
    for table, text in TABLES.items():
        con.execute(f"comment on table {table} is {_quote(text)}")
        for column, note in COLUMNS[table].items():
            con.execute(f"comment on column {table}.{column} is {_quote(note)}")
    con.execute("insert into schema_info values (?)", [SCHEMA_VERSION])
    con.execute("commit")


def set_aside_path(db_path: Path) -> Path:
    """Where `tlsrpt rebuild` moves the warehouse while it replays the packs (which hold all of
    it): removed when the rebuild ends, or by the next run when a killed rebuild left it."""
    return db_path.with_suffix(".duckdb.before-rebuild")


ALL_CORES = os.cpu_count() or 1


def connect(db_path: Path, threads: int = 1) -> duckdb.DuckDBPyConnection:
    """The warehouse, schema ensured. One DuckDB thread by default: during an ingest the parser
    processes keep every core busy, and DuckDB's own thread pool then only adds contention for
    the small per-batch statements. Model builds run alone and pass ALL_CORES (at 1M reports
    the full rebuild took 26.9 s on one thread, 17.6 s on two)."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    # A large checkpoint threshold: otherwise DuckDB checkpoints inside batch commits once the
    # WAL passes 16 MB (145 ms a commit measured); ingest checkpoints once at the end instead,
    # and a killed run's WAL is replayed on the next open.
    config = {"threads": threads, "checkpoint_threshold": "256MB", "memory_limit": "512MB"}
    for attempt in range(_LOCK_TRIES):
        try:
            con = duckdb.connect(str(db_path), config=config)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if attempt == _LOCK_TRIES - 1:
                holder = _HOLDER.search(str(exc))
                raise WarehouseBusy(
                    f"{db_path} is held open by another process ({holder.group(0) if holder else 'a reader'}),"
                    " such as a `duckdb` shell: close it and run again (during runs, query data/snapshots/)"
                ) from None
            time.sleep(_LOCK_PAUSE)
    ensure_schema(con)
    return con


# A reader (a `tlsrpt status` loop, a query in a shell) holds the file for a moment: wait up to
# 5 s for a gap between its reads; a `duckdb` shell left open holds it for ever: then say who.
_LOCK_TRIES = 250
_LOCK_PAUSE = 0.02
_HOLDER = re.compile(r"PID \d+")


def committed_batches(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("select batch_id from ingest_batches").fetchall()}


class KnownState:
    """What the warehouse already holds, read once per run and kept current by each batch:
    report_key -> content_sha256, and the sha256s some pack stores. One scan at start costs
    less than a lookup join per batch (~35 ms each) and ~150 bytes a report in memory."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.reports: dict[str, str] = dict(con.execute("select report_key, content_sha256 from reports").fetchall())
        self.objects: set[str] = {row[0] for row in con.execute("select raw_sha256 from raw_objects").fetchall()}


def object_location(con: duckdb.DuckDBPyConnection, sha256: str) -> tuple[str, int, int] | None:
    row = con.execute(
        "select pack_path, byte_offset, byte_size from raw_objects where raw_sha256 = ? limit 1", [sha256]
    ).fetchone()
    return (row[0], row[1], row[2]) if row else None


def insert_tables(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table]) -> None:
    for table, data in tables.items():
        if data.num_rows:
            con.register("batch_rows", data)
            con.execute(f"insert into {table} by name select * from batch_rows")
            con.unregister("batch_rows")


def mark_dirty(con: duckdb.DuckDBPyConnection, table: str, values: set[str]) -> None:
    if values:
        con.execute(
            "insert or ignore into dirty_partitions select ?, unnest(?::varchar[])", [table, sorted(values)]
        )
