"""The warehouse on the lake: schema, the local writer lock, and batch writes of the core tables.

The lake (pipeline/store/lake.py) takes readers while a writer commits, and with a PostgreSQL
catalog several machines write it. On one machine, though, one writer per data dir is still the
rule: two local ingests would dedupe against each other's uncommitted batches and replay each
other's packs. So every writer takes `<data>/.writer.lock` first and fails fast with a clear
message. A batch is one transaction: its rows, its deliveries and its pack's id commit together
or not at all.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa

from pipeline.settings import Settings
from pipeline.store import lake
from pipeline.store.empty_tables import give_statistics
from pipeline.store.lake import in_transaction
from pipeline.store.schema_comments import COLUMNS, TABLES
from pipeline.store.sql_text import sql_text


class WarehouseBusy(RuntimeError):
    """Another process is writing to the warehouse."""


_HELD_LOCKS: set[int] = set()  # file descriptors of the writer locks this process holds


# What a model build may use. Rebuilding detect.policy_versions_daily or intermediate.failure_causes
# in full from the committed staging tables of 1M reports fails in 512 MB and passes in 768 MB (a
# Dagster step builds one model in its own transaction, so a changed upstream model is read back
# from the lake); the builds hold the writer lock, so one runs at a time on a machine.
MODEL_BUILD_MEMORY = "1GB"


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


SCHEMA_VERSION = 5  # 3: the lake (batch_id on the row tables, no dirty_partitions); 4: empty tables with
# statistics; 5: no inlined data in the schemas the model builds rewrite (MODEL_SCHEMAS)

# The schemas of the SQL models (sql/<schema>/). Their tables are replaced whole, 17 of them in a
# build of a new day, and with DuckLake's data inlining each new table gets a table of its own in
# the catalog database for its inlined rows, kept until its snapshot expires. Every read of the
# lake slowed with their number: a build of a 10k-report lake took 3.7 s, then 10.8 s after 21
# builds and 29.6 s after 41 (a 3-row table's scan 8 -> 37 ms); without inlining 1.6, 2.9 and
# 4.3 s (docs/architecture.md). With a snapshot retention of 7 days and a run every 30 minutes
# that would be ~5,700 tables. Without inlining a model's rows always go to Parquet (the daily
# maintenance merges the small files). The config tables keep it: rewritten once a day at most.
# (One exception: an empty model table a build keeps, for one transaction: store/empty_tables.py.)
MODEL_SCHEMAS = ("staging", "intermediate", "marts", "posture", "detect")

# Month partitions: a day's batch lands in one folder per table, a late report in its own month,
# and a query on a date range skips the other months' files (docs/architecture.md).
PARTITIONED_BY = {
    "reports": "year(report_date), month(report_date)",
    "policies": "year(report_date), month(report_date)",
    "failure_details": "year(report_date), month(report_date)",
    "deliveries": "year(ingested_date), month(ingested_date)",
}


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables, their partitioning and their comments once; later connections only
    check the version (the ~100 COMMENT statements cost a second on every start otherwise)."""
    try:  # asked directly: listing duckdb_tables() of a lake costs a quarter of a second
        version = con.execute("select max(version) from main.schema_info").fetchone()[0]
    except duckdb.CatalogException:
        version = None
    if version == SCHEMA_VERSION:
        return
    if version == 3:  # tables as in 5: the empty ones' statistics (4) and the options (5) are new
        in_transaction(con, _give_core_tables_statistics)
    elif version != 4:
        in_transaction(con, _create_schema)
    # The options in a transaction of their own: DuckLake sets none on a schema created in the
    # same transaction. The version last, so a writer killed in between does this again.
    if _is_lake(con):  # tests also build the schema in a plain in-memory DuckDB
        in_transaction(con, _create_model_schemas)
    in_transaction(con, _no_inlining_in_model_schemas)


def _give_core_tables_statistics(con: duckdb.DuckDBPyConnection) -> None:
    for table in TABLES:
        give_statistics(con, table)


def _create_model_schemas(con: duckdb.DuckDBPyConnection) -> None:
    for schema in MODEL_SCHEMAS:
        con.execute(f"create schema if not exists {schema}")


def _no_inlining_in_model_schemas(con: duckdb.DuckDBPyConnection) -> None:
    """Set each model schema's inlining limit to 0 (MODEL_SCHEMAS says why; kept in the catalog per
    schema, for every writer of the lake), and the schema version this completes."""
    if _is_lake(con):  # tests also build the schema in a plain in-memory DuckDB
        for schema in MODEL_SCHEMAS:
            con.execute(f"call {lake.ALIAS}.set_option('data_inlining_row_limit', 0, schema => '{schema}')")
    _set_version(con)


def _create_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(resources.files("pipeline.store").joinpath("schema.sql").read_text())
    if _is_lake(con):  # tests also build the schema in a plain in-memory DuckDB
        for table, columns in PARTITIONED_BY.items():
            con.execute(f"alter table {table} set partitioned by ({columns})")
        _give_core_tables_statistics(con)  # before the first ingest every core table is empty; some stay so
    # COMMENT ON takes no bound parameters; the texts are our own constants, quoted here.
    for table, text in TABLES.items():
        con.execute(f"comment on table {table} is {sql_text(text)}")
        for column, note in COLUMNS[table].items():
            con.execute(f"comment on column {table}.{column} is {sql_text(note)}")


def _set_version(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("delete from schema_info")
    con.execute("insert into schema_info values (?)", [SCHEMA_VERSION])


def _is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    kind = con.execute("select type from duckdb_databases() where database_name = current_database()").fetchone()[0]
    return kind == "ducklake"


def set_aside_path(settings: Settings) -> Path:
    """Where `tlsrpt rebuild` moves the embedded lake (catalog and data files) while it replays
    the packs (which hold all of it): removed when the rebuild ends, restored if it fails, and
    removed by the next run when a killed rebuild left it."""
    return settings.data_dir / "lake.before-rebuild"


ALL_CORES = os.cpu_count() or 1


def connect(settings: Settings, threads: int = 1, memory_limit: str = "512MB") -> duckdb.DuckDBPyConnection:
    """The lake, read-write, schema ensured. One DuckDB thread by default: during an ingest the
    parser processes keep every core busy, and DuckDB's own thread pool then only adds
    contention for the small per-batch statements. Model builds run alone and pass ALL_CORES
    (at 1M reports the full rebuild took 26.9 s on one thread, 17.6 s on two) and
    MODEL_BUILD_MEMORY. Never CHECKPOINT this connection: on a lake that runs maintenance
    (merging and expiring)."""
    con = lake.open_lake(settings, threads=threads, memory_limit=memory_limit)
    try:
        ensure_schema(con)
    except BaseException:
        con.close()
        raise
    return con


def committed_batches(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("select batch_id from ingest_batches").fetchall()}


def object_location(con: duckdb.DuckDBPyConnection, sha256: str, data_dir: Path) -> tuple[str, int, int] | None:
    """Where this data dir's landing zone stores the bytes of `sha256` (pack path relative to
    `data_dir`, offset, size), or None. On a shared lake other machines' packs are indexed too,
    under their own data dirs: only a pack that is here can be read."""
    rows = con.execute(
        "select pack_path, byte_offset, byte_size from raw_objects where raw_sha256 = ? order by pack_path", [sha256]
    ).fetchall()
    return next(((path, offset, size) for path, offset, size in rows if (data_dir / path).is_file()), None)


def insert_tables(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table]) -> None:
    for table, data in tables.items():
        if data.num_rows:
            con.register("batch_rows", data)
            con.execute(f"insert into {table} by name select * from batch_rows")
            con.unregister("batch_rows")
