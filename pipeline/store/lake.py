"""The warehouse is a DuckLake: Parquet data files plus a SQL catalog (docs/architecture.md,
"Storage on DuckLake"). Every caller opens it here, so one place decides where it lives.

- Embedded (the default, no server): catalog `<data>/lake/catalog.sqlite`, data files under
  `<data>/lake/data/`. SQLite takes readers while a writer commits (measured: 0 reader errors).
- Scale-out: `TLSRPT_CATALOG` names a PostgreSQL database (`postgresql://…` or a libpq
  `key=value` string) and `TLSRPT_DATA_PATH` a shared folder or an S3 prefix (`s3://bucket/lake/`,
  reached with the TLSRPT_S3_* settings); several machines then write the same lake.

The lake is attached as `lake` in an in-memory DuckDB and made the default catalog, so the
SQL of the pipeline and of analysts keeps unqualified names (`reports`, `marts.daily_outcomes`).
A reader may pin a snapshot (`snapshot=`): what it sees never moves while writers commit.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

import duckdb

from pipeline.settings import Settings
from pipeline.store import extensions, kept_lakes
from pipeline.store.sql_text import sql_text

ALIAS = "lake"
T = TypeVar("T")


class LakeUnavailable(RuntimeError):
    """The catalog cannot be reached or the data path cannot be used; the message is one line."""


@dataclass(frozen=True)
class Location:
    """Where a lake lives: the ATTACH target, its data path, and the extensions that reads it."""

    attach: str  # 'ducklake:sqlite:…' or 'ducklake:postgres:…'
    data_path: str  # a folder ending in '/' (or an s3:// prefix)
    extensions: tuple[str, ...]
    embedded_catalog: Path | None  # the SQLite file in embedded mode, None with a server

    @property
    def described(self) -> str:
        """For messages: the catalog without any password in it."""
        if self.embedded_catalog is not None:
            return str(self.embedded_catalog)
        return "the PostgreSQL catalog " + _without_password(self.attach.removeprefix("ducklake:postgres:"))


def location(settings: Settings) -> Location:
    data_path = settings.data_path or str(settings.data_dir / "lake" / "data")
    if not data_path.endswith("/"):
        data_path += "/"
    needed = ["ducklake"]
    if data_path.startswith("s3://"):
        needed.append("httpfs")
    catalog = settings.catalog
    if not catalog:
        sqlite_file = settings.data_dir / "lake" / "catalog.sqlite"
        return Location(f"ducklake:sqlite:{sqlite_file}", data_path, (*needed, "sqlite_scanner"), sqlite_file)
    if catalog.startswith("sqlite:"):
        sqlite_file = Path(catalog.removeprefix("sqlite:")).absolute()
        return Location(f"ducklake:sqlite:{sqlite_file}", data_path, (*needed, "sqlite_scanner"), sqlite_file)
    return Location(f"ducklake:postgres:{catalog.removeprefix('postgres:')}", data_path,
                    (*needed, "postgres_scanner"), None)


def exists(settings: Settings) -> bool:
    """Whether a lake was ever created here. With a server catalog the answer needs a connection,
    so it is assumed (an attach that finds an empty database creates the lake)."""
    where = location(settings)
    return where.embedded_catalog is None or where.embedded_catalog.exists()


def commit_stamp(settings: Settings) -> str | None:
    """A string that changes with every commit to the lake, None when there is no lake: for the
    embedded catalog its file's time and size (no extension to load, a few microseconds), with a
    server catalog the newest snapshot id."""
    where = location(settings)
    if where.embedded_catalog is not None:
        if not where.embedded_catalog.exists():
            return None
        stat = where.embedded_catalog.stat()
        return f"{stat.st_mtime_ns} {stat.st_size}"
    con = open_lake(settings, read_only=True)
    try:
        return f"snapshot {current_snapshot(con)}"
    finally:
        con.close()


def open_lake(settings: Settings, *, read_only: bool = False, snapshot: int | None = None,
              threads: int = 1, memory_limit: str = "512MB") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the lake attached as `lake` and in use.

    `read_only` + `snapshot`: a reader pinned to that committed snapshot. A read-only open of a
    lake that does not exist yet raises LakeUnavailable (nothing is created by a reader).

    The database behind it is kept for the process (pipeline/store/kept_lakes.py): the extensions
    are loaded and the catalog attached on the first open only, and each open hands out a cursor
    of it, which the caller closes as before (the database stays). `threads` and `memory_limit`
    belong to the database, not the cursor, so each open sets them again: the last caller's hold.
    So does whatever else a caller attaches or sets: detach a database attached beside the lake."""
    where = location(settings)
    if read_only and not exists(settings):  # before the extensions: a reader creates no folder
        raise LakeUnavailable(f"no warehouse yet at {where.described}: run `tlsrpt ingest` first")
    secret = s3_secret(settings) if where.data_path.startswith("s3://") else None
    key = (where.attach, where.data_path, read_only, snapshot, secret, str(settings.extension_dir))
    database = kept_lakes.database(key, where.embedded_catalog,
                                   lambda: _attached(settings, where, read_only, snapshot, secret, threads))
    con = database.cursor()
    try:
        con.execute(f"set threads = {int(threads)}")
        con.execute(f"set memory_limit = {sql_text(memory_limit)}")
        con.execute(f"use {ALIAS}")  # a cursor starts in the in-memory catalog
        return con
    except BaseException:
        con.close()
        raise


def forget(settings: Settings | None = None) -> None:
    """Let go of this process's kept databases of the lake of `settings` (of every lake by
    default), so the next open attaches anew: before its folder is moved (`tlsrpt rebuild`)."""
    attach = location(settings).attach if settings is not None else None
    kept_lakes.forget(None if attach is None else (lambda key: key[0] == attach))


def _attached(settings: Settings, where: Location, read_only: bool, snapshot: int | None,
              secret: str | None, threads: int) -> duckdb.DuckDBPyConnection:
    """A new in-memory database with the extensions loaded and the lake attached (not in use)."""
    con = duckdb.connect(config={"threads": threads})
    try:
        extensions.load(con, where.extensions, settings.extension_dir)
        if secret is not None:
            con.execute(secret)
        if where.embedded_catalog is not None and not read_only:
            where.embedded_catalog.parent.mkdir(parents=True, exist_ok=True)
            if not where.data_path.startswith("s3://"):
                Path(where.data_path).mkdir(parents=True, exist_ok=True)
        try:
            con.execute(attach_statement(where, read_only=read_only, snapshot=snapshot))
        except duckdb.Error as exc:
            # DuckDB's message quotes the whole connection string, password included
            raise LakeUnavailable(f"cannot open the warehouse at {where.described}: {_hide_passwords(_first_line(exc))}") from None
        return con
    except BaseException:
        con.close()
        raise


def attach_statement(where: Location, *, read_only: bool, snapshot: int | None) -> str:
    """The ATTACH of the lake as `lake`, the same in this process and in the DuckDB shell
    (`tlsrpt sql`): the data path always from the settings, since the catalog remembers the
    absolute path it was created with and the data dir may have moved since."""
    options = [f"data_path {sql_text(where.data_path)}", "override_data_path true"]
    if read_only:
        options.append("read_only")
    if snapshot is not None:
        options.append(f"snapshot_version {int(snapshot)}")
    return f"attach {sql_text(where.attach)} as {ALIAS} ({', '.join(options)})"


def current_snapshot(con: duckdb.DuckDBPyConnection) -> int:
    """The id of the lake's newest committed snapshot (as this connection sees it)."""
    return con.execute(f"select id from {ALIAS}.current_snapshot()").fetchone()[0]


def with_conflict_retry(write: Callable[[], T], tries: int = 5, pause: float = 0.2) -> T:
    """Run `write` (which opens and commits its own transaction), again when a concurrent writer
    committed first and DuckLake's own retries gave up (TransactionException at COMMIT).
    `write` must roll back its transaction on failure; it is then safe to repeat."""
    for attempt in range(tries):
        try:
            return write()
        except duckdb.TransactionException:
            if attempt == tries - 1:
                raise
            time.sleep(pause * (attempt + 1))
    raise AssertionError("unreachable")


def in_transaction(con: duckdb.DuckDBPyConnection, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    """`work` in one lake transaction, committed, and done again from the start when a concurrent
    writer committed first (with_conflict_retry); rolled back on any error."""
    def attempt() -> T:
        con.execute("begin transaction")
        try:
            result = work(con)
            con.execute("commit")
        except BaseException:
            try:
                con.execute("rollback")
            except duckdb.Error:
                pass  # a failed COMMIT has already ended the transaction
            raise
        return result

    return with_conflict_retry(attempt)


def s3_secret(settings: Settings, *, keys_from_environment: bool = False) -> str:
    """The DuckDB secret httpfs signs its requests to the data path with (TLSRPT_S3_*); it lives
    in one connection only. Empty key and secret: anonymous requests. `keys_from_environment`:
    the key pair is read by the DuckDB shell's getenv() from TLSRPT_S3_KEY_ID/TLSRPT_S3_SECRET,
    so that it never shows on a command line (`tlsrpt sql` passes them in the environment)."""
    url_style = settings.s3_url_style or ("path" if settings.s3_endpoint else "vhost")
    options = {"key_id": settings.s3_key_id, "secret": settings.s3_secret, "region": settings.s3_region,
               "endpoint": settings.s3_endpoint, "url_style": url_style}
    given = [f"{name} {sql_text(value)}" for name, value in options.items()
             if value and not (keys_from_environment and name in S3_KEY_VARIABLES)]
    if keys_from_environment:
        given += [f"{name} getenv({sql_text(variable)})" for name, variable in S3_KEY_VARIABLES.items()
                  if options[name]]
    return f"create or replace secret lake_s3 (type s3, {', '.join(given)}, use_ssl {str(settings.s3_use_ssl).lower()})"


S3_KEY_VARIABLES = {"key_id": "TLSRPT_S3_KEY_ID", "secret": "TLSRPT_S3_SECRET"}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _hide_passwords(text: str) -> str:
    """`password=…` of a libpq string and the secret of a `scheme://user:secret@host` URL, as ***."""
    text = re.sub(r"password\s*=\s*[^\s\"']+", "password=***", text)
    return re.sub(r"(://[^:/@\s]+):[^@\s]+@", r"\1:***@", text)


def _without_password(conninfo: str) -> str:
    if "://" in conninfo:  # postgresql://user:secret@host/db
        scheme, rest = conninfo.split("://", 1)
        if "@" in rest:
            user_part, host_part = rest.split("@", 1)
            rest = user_part.split(":", 1)[0] + "@" + host_part
        return f"{scheme}://{rest}"
    return " ".join(p if not p.startswith("password=") else "password=***" for p in conninfo.split())

