"""The SQL models under sql/: discovery, dependency wiring and (re)building.

One `select` per file; folder = DuckDB schema, file name = table. Dependencies are
read from the SQL itself: every schema-qualified name (`staging.x`, `marts.y`, `main.reports`)
is an edge. Each file's first line states its grain (`-- grain: ...`). Models are built in
dependency order inside one transaction. Each model carries a fingerprint of what its table is a
function of (its SQL, its inputs, the committed batches, the detection thresholds), so a run
with nothing new rebuilds nothing; a model whose header declares it incremental redoes only the
report dates its new batches touched (pipeline/transform/incremental.py), the others are rebuilt
in full (what a rebuild costs per model and scale: docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from graphlib import TopologicalSorter
from importlib import resources
from pathlib import Path

import duckdb

from pipeline.detect.causes import CAUSES, REASON_PATTERNS, RESULT_TYPE_CAUSES
from pipeline.detect.detection_config import DEFAULTS, THRESHOLDS, load_thresholds
from pipeline.settings import Settings
from pipeline.store import lake
from pipeline.store.builds import record_build
from pipeline.store.empty_tables import give_models_statistics, give_statistics
from pipeline.store.schema_comments import (
    MODEL_COLUMNS_FILE,
    TABLES,
    model_column_comment,
)
from pipeline.store.sql_text import sql_text
from pipeline.store.warehouse import ALL_CORES, MODEL_BUILD_MEMORY, connect, writer_lock
from pipeline.transform import incremental
from pipeline.transform.reporter_domains import LIST_VERSION, registrable_domain
from pipeline.vocabulary import POLICY_TYPES, RESULT_TYPES

SQL_DIR = Path(str(resources.files("sql")))  # the checkout's sql/ or the installed package's
# In flow order: a model reads only core or config tables and models of its own or an earlier
# layer (tests/sql/test_layers.py), so every arrow of the lineage points forward.
LAYERS = ("staging", "intermediate", "marts", "posture", "detect")  # posture: docs/posture.md
CORE_TABLES = tuple(TABLES)  # what `main.<name>` may name: the tables schema.sql creates
_COMMENT = re.compile(r"--[^\n]*")
_QUALIFIED = re.compile(r"\b(staging|intermediate|marts|posture|detect|main|config)\.([a-z_][a-z0-9_]*)\b")


@dataclass(frozen=True)
class Model:
    schema: str
    name: str
    sql: str
    grain: str
    deps: frozenset[str]  # "schema.name" of other models, "main.<core table>" or "config.<table>"

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"


def load_models(sql_dir: Path = SQL_DIR) -> dict[str, Model]:
    models: dict[str, Model] = {}
    for layer in LAYERS:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            text = path.read_text(encoding="utf-8")
            first = text.splitlines()[0] if text.strip() else ""
            if not first.startswith("-- grain:"):
                raise ValueError(f"{path}: the first line must state the grain ('-- grain: ...')")
            key = f"{layer}.{path.stem}"
            # Edges come from the SQL itself, not from comments that mention other models.
            code = _COMMENT.sub("", text)
            deps = {f"{s}.{n}" for s, n in _QUALIFIED.findall(code)} - {key}
            unknown_core = {d for d in deps if d.startswith("main.") and d[5:] not in CORE_TABLES}
            unknown_core |= {d for d in deps if d.startswith("config.") and d[7:] not in CONFIG_TABLES}
            if unknown_core:
                raise ValueError(f"{path}: reads unknown core or config tables {sorted(unknown_core)}")
            models[key] = Model(layer, path.stem, text, first.removeprefix("-- grain:").strip(), frozenset(deps))
    for model in models.values():
        missing = {d for d in model.deps if not d.startswith(("main.", "config.")) and d not in models}
        if missing:
            raise ValueError(f"{model.key} reads models that do not exist: {sorted(missing)}")
        later = sorted(d for d in model.deps if d in models and LAYERS.index(models[d].schema) > LAYERS.index(model.schema))
        if later:
            raise ValueError(f"{model.key} reads models of a later layer {later}: layers run {' -> '.join(LAYERS)}")
    return models


def build_order(models: dict[str, Model]) -> list[str]:
    graph = {key: {d for d in m.deps if d in models} for key, m in models.items()}
    return list(TopologicalSorter(graph).static_order())


CONFIG_TABLES = ("thresholds", "detection_thresholds", "causes", "result_type_causes", "reason_patterns",
                 "reporter_domains", "result_types", "policy_types", "clock")


def judging_day(today: date | None = None) -> date:
    """The one "today" of a build (config.clock): the given day, else the UTC date. Models never
    read the clock themselves, so a build is a function of the warehouse and this day."""
    return today or datetime.now(timezone.utc).date()


def _reads_config(model: Model) -> bool:
    return any(d.startswith("config.") for d in model.deps)


def write_config(con: duckdb.DuckDBPyConnection, thresholds: dict[str, float], today: date | None = None) -> None:
    """(Re)write the `config` tables the models read: thresholds, the RFC 8460 vocabulary, the
    cause catalogue and the registrable domain of every reporter name in the core tables."""
    con.execute("create schema if not exists config")
    values = {t.name: t.kind(thresholds.get(t.name, t.default)) for t in THRESHOLDS}
    # One wide row for the models (`cross join config.thresholds as t`, then `t.<name>`), typed
    # so day counts can bound window frames; one row per threshold, described, for people.
    columns = ", ".join(f"{t.name} {'integer' if t.kind is int else 'double'}" for t in THRESHOLDS)
    con.execute(f"create or replace table config.thresholds ({columns})")
    con.execute(f"insert into config.thresholds values ({', '.join('?' * len(THRESHOLDS))})", list(values.values()))
    con.execute("create or replace table config.detection_thresholds (name varchar, value double, description varchar)")
    con.executemany("insert into config.detection_thresholds values (?, ?, ?)",
                    [(t.name, float(values[t.name]), t.description) for t in THRESHOLDS])
    con.execute("create or replace table config.causes (cause varchar, title varchar, diagnosis varchar, fix varchar)")
    con.executemany("insert into config.causes values (?, ?, ?, ?)", [tuple(c) for c in CAUSES])
    con.execute("create or replace table config.result_type_causes (result_type varchar, cause varchar)")
    con.executemany("insert into config.result_type_causes values (?, ?)", list(RESULT_TYPE_CAUSES.items()))
    con.execute("create or replace table config.reason_patterns (priority integer, pattern varchar, sub_cause varchar, cause varchar)")
    con.executemany("insert into config.reason_patterns values (?, ?, ?, ?)", [tuple(p) for p in REASON_PATTERNS])
    con.execute("create or replace table config.result_types"
                " (result_type varchar, result_group varchar, cause varchar, meaning varchar)")
    con.executemany("insert into config.result_types values (?, ?, ?, ?)", [tuple(r) for r in RESULT_TYPES])
    con.execute("create or replace table config.policy_types (policy_type varchar)")
    con.executemany("insert into config.policy_types values (?)", [(p,) for p in POLICY_TYPES])
    con.execute("create or replace table config.clock (today date)")
    con.execute("insert into config.clock values (?)", [judging_day(today)])
    described = {t.name: t.description for t in THRESHOLDS}  # config.thresholds: one column each
    _write_reporter_domains(con)
    for table in CONFIG_TABLES:
        comment_columns(con, f"config.{table}", described if table == "thresholds" else None)
    con.execute("create or replace table config.written_from (fingerprint varchar, written_at timestamptz)")
    con.execute("insert into config.written_from values (?, now())", [_config_fingerprint(thresholds, today)])
    comment_columns(con, "config.written_from")


def config_is_current(con: duckdb.DuckDBPyConnection, thresholds: dict[str, float], today: date | None = None) -> bool:
    """Whether the config tables hold what write_config() would write now (config.written_from), so
    a build may leave them: rewriting the ten tables costs ~0.5 s on a lake, and a Dagster run has
    a step per model. Asked outside a transaction (a missing table would abort it)."""
    try:
        last = con.execute("select fingerprint from config.written_from").fetchone()
    except (duckdb.CatalogException, duckdb.InvalidInputException):  # see model_failures()
        return False
    return last == (_config_fingerprint(thresholds, today),)


def _config_fingerprint(thresholds: dict[str, float], today: date | None) -> str:
    """What write_config() writes is a function of: the thresholds and their descriptions, the
    vocabulary and cause catalogue, the day and the column comments. Not of the batches: the
    reporter names they bring are added to config.reporter_domains by add_reporter_names(), so a
    new day leaves the other tables (rewriting them cost 1.4 s of a new day's 8 s at 100k)."""
    parts = (_config_constants(thresholds), THRESHOLDS, judging_day(today), MODEL_COLUMNS_FILE.read_bytes())
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def code_stamp(settings: Settings) -> str:
    """What the models are a function of besides the lake's data: their SQL, the thresholds, the
    vocabulary, the column docs and the judging day; read without opening the lake. `tlsrpt run`
    skips Dagster only while this and the lake are as its last passed run left them, so an
    upgrade that changes a model's SQL, a threshold edited, or a new day (intake freshness is
    judged against the clock: a mailbox that went quiet is news on a day nothing arrives) runs."""
    models = load_models()
    parts = [_config_fingerprint(load_thresholds(settings.data_dir), settings.today),
             *(f"{key}\0{models[key].sql}" for key in sorted(models))]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _config_constants(thresholds: dict[str, float]) -> str:
    return repr((sorted(thresholds.items()), CAUSES, REASON_PATTERNS, sorted(RESULT_TYPE_CAUSES.items()), LIST_VERSION,
                 RESULT_TYPES, POLICY_TYPES))


def _write_reporter_domains(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create or replace table config.reporter_domains (name varchar, reporter varchar)")
    add_reporter_names(con)
    give_statistics(con, "config.reporter_domains")  # no names before the first report


def add_reporter_names(con: duckdb.DuckDBPyConnection, batches: set[str] | None = None) -> None:
    """Give config.reporter_domains the reporter names of the core tables it lacks. Reports are
    never removed, so adding the new names leaves it what writing it whole would (`tlsrpt
    rebuild` does); a few hundred distinct names even at 1M reports. `batches`: look only at
    the reports of these (the ones not every reader of the names holds yet: _unnamed_batches),
    not at every report (a pass over two columns of all of them, ~0.04 s CPU at 1M)."""
    if batches is not None and not batches:
        return
    # The same name staging.reports joins on. The batches as a list of literals, not a subquery
    # nor bound parameters: DuckLake then skips, as it plans the scan, every data file whose
    # batch_id range holds none of them; with parameters the first scan of a build read every
    # file's footer (0.27 s against 0.05 s on top of 1M reports, in 52 files).
    only = "" if batches is None else f" and batch_id in ({', '.join(map(sql_text, sorted(batches)))})"
    names = [name for (name,) in con.execute(
        "select distinct coalesce(contact_domain, lower(trim(organization_name))) as name from main.reports"
        f" where name is not null and name not in (select name from config.reporter_domains){only}").fetchall()]
    if names:
        con.execute("insert into config.reporter_domains select unnest($1::varchar[]), unnest($2::varchar[])",
                    [names, [registrable_domain(name) for name in names]])


def _unnamed_batches(models: dict[str, Model], ledger: incremental.Ledger) -> set[str] | None:
    """The committed batches whose reporter names config.reporter_domains may lack: each model
    reading it took the names in with the batches it holds (in one transaction), so those it
    lacks; None (every report) when a reader holds none, as after a rebuild of it."""
    readers = [key for key, model in models.items() if "config.reporter_domains" in model.deps]
    held = [ledger.held.get(key, set()) for key in readers]
    if not readers or not all(held):
        return None
    return ledger.committed - set.intersection(*held)


def comment_columns(con: duckdb.DuckDBPyConnection, table: str, own: dict[str, str] | None = None) -> None:
    """COMMENT ON every column of `table` ("schema.name"): `own` first, else sql/columns.toml."""
    # The table's own columns, from a query of none of its rows: duckdb_columns() lists every
    # column of every table in the lake first (0.3 s of a new day's build on top of 1M reports,
    # 0.46 s over its 17 full rebuilds, in a transaction that changed many tables).
    columns = [column for column, *_ in con.execute(f"select * from {table} limit 0").description]
    for column in columns:
        text = (own or {}).get(column) or model_column_comment(table, column)
        if text:  # a column without one fails tests/sql/test_column_comments.py, not the build
            con.execute(f"comment on column {table}.{column} is {sql_text(text)}")


class ModelError(RuntimeError):
    """A SQL model failed to build; the message names the file, `model` the table."""

    def __init__(self, message: str, model: str | None = None) -> None:
        super().__init__(message)
        self.model = model

    @property
    def first_line(self) -> str:
        """The message without the offending SQL DuckDB adds below it: what a person is shown."""
        return str(self).strip().splitlines()[0]


class ModelsFailed(ModelError):
    """Some models failed to build. Every other model was rebuilt and committed; each failed
    model, and every model that reads it, keeps its last table (and stays out of date, so the
    next run tries again). `failures`: model -> the first line of its error; `kept`: the models
    that read a failed one."""

    def __init__(self, failures: dict[str, str], kept: list[str]) -> None:
        first, error = next(iter(failures.items()))
        also = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        super().__init__(f"{first} failed{also}: {error}; it and the {len(kept)} model(s) reading it keep their"
                         " last tables, every other model was rebuilt", first)
        self.failures, self.kept = failures, kept


def _create(con: duckdb.DuckDBPyConnection, model: Model) -> int:
    con.execute(f"create schema if not exists {model.schema}")
    try:
        (rows,) = con.execute(f"create or replace table {model.key} as {model.sql}").fetchone()
    except duckdb.Error as exc:
        raise ModelError(f"sql/{model.schema}/{model.name}.sql: {exc}", model.key) from exc
    # A model built empty gets no statistics (store/empty_tables.py): its schema inlines no data
    # (warehouse.MODEL_SCHEMAS), and without inlining the placeholder row leaves none either.
    con.execute(f"comment on table {model.key} is {sql_text(model.grain)}")
    comment_columns(con, model.key)
    return rows


# The builder's own bookkeeping in config: table -> its columns (the ledger's: incremental.py).
BOOKKEEPING = {
    "config.model_builds": "model varchar, fingerprint varchar, row_count bigint, built_at timestamptz",
    "config.model_failures": "model varchar, error varchar, failed_at timestamptz",
}


def _ensure_bookkeeping(con: duckdb.DuckDBPyConnection) -> None:
    """Create the bookkeeping tables and the increment ledger's, with their comments, when one is
    missing. Outside the build's transaction (probing for a missing table aborts one), and once:
    each COMMENT is a catalog write, which a Dagster run would otherwise pay in every step."""
    tables = (*BOOKKEEPING, incremental.BATCHES, incremental.SHAPES, incremental.DAYS)
    if _exists(con, ", ".join(tables)):  # all of them, in one statement: the usual case
        return
    missing = [table for table in tables if not _exists(con, table)]
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists config")
        for table, columns in BOOKKEEPING.items():
            con.execute(f"create table if not exists {table} ({columns})")
        incremental.ensure_tables(con)
        for table in missing:
            comment_columns(con, table)
            give_statistics(con, table)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether `table` (or each of "a, b, c") exists."""
    try:  # asked directly: listing duckdb_tables() of a lake costs more
        con.execute(f"select 1 from {table} limit 0")
    except (duckdb.CatalogException, duckdb.InvalidInputException):  # see model_failures()
        return False
    return True


def _build(con: duckdb.DuckDBPyConnection, ledger: incremental.Ledger, models: dict[str, Model], key: str,
           shape: str, increments: dict[str, int], failed: set[str], built: tuple[str, int] | None) -> int | None:
    """Build one model: only the days its new batches touched when it is incremental and its
    shape is unchanged (pipeline/transform/incremental.py), else in full. `built`: its table's
    fingerprint and row count as last recorded, None when it has no table. Returns its row count
    now, None when that is unknown: counting every table again would be one more scan of the
    lake per model and build (0.1-0.4 s of a new day's build at 1M reports)."""
    how = incremental.step(con, ledger, models[key], shape, increments, failed, built is not None)
    if how is None or how.ranges is None:
        rows = _create(con, models[key])
    else:
        try:
            added = incremental.apply(con, key, models[key].sql, how.ranges)
        except duckdb.Error as exc:
            raise ModelError(f"sql/{models[key].schema}/{models[key].name}.sql: {exc}", key) from exc
        rows = None if built is None or built[1] is None else built[1] + added
    if how is not None:
        incremental.record(ledger, key, shape, how)
    return rows


def _reads_reports(model: Model) -> bool:
    """Whether the model reads the loaded reports itself: a core table other than the posture
    checks, or the reporter names taken from them (config.reporter_domains)."""
    return any(d.startswith("main.") and d != "main.posture_checks" for d in model.deps) \
        or "config.reporter_domains" in model.deps


def fingerprints(con: duckdb.DuckDBPyConnection, models: dict[str, Model], thresholds: dict[str, float],
                 today: date | None = None, with_data: bool = True) -> dict[str, str]:
    """What each model's table is a function of: its SQL, its inputs' fingerprints, the data
    (every change to the core tables is a committed batch in ingest_batches) and, for the
    detection models, the thresholds and the cause catalogue. Equal fingerprint, equal table.
    `with_data` False: the shape alone, all but the batches (an incremental build keeps it)."""
    data = repr(con.execute("select count(*), coalesce(max(batch_id), '') from ingest_batches").fetchone()) \
        if with_data else ""
    config = _config_constants(thresholds)
    posture: list[str] = []  # asked once, for the first model that reads the posture checks
    out: dict[str, str] = {}
    for key in build_order(models):
        model = models[key]
        # The loaded reports count only for a model that reads them (directly, or through the
        # reporter names of config.reporter_domains); through other models it comes with their
        # fingerprints. A model of the posture checks alone is not stale after an ingest: in a
        # Dagster run it may well be built before the ingest step commits.
        parts = [model.sql, data if _reads_reports(model) else "", *(out[d] for d in sorted(model.deps) if d in out)]
        if "main.posture_checks" in model.deps:  # written by posture check runs, not ingest batches
            posture = posture or [repr(con.execute("select count(*), max(checked_at) from posture_checks").fetchone())]
            parts.extend(posture)
        if _reads_config(model):
            parts.append(config)
        if "config.clock" in model.deps:  # judged against the day: a new day rebuilds it, data or not
            parts.append(judging_day(today).isoformat())
        out[key] = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    return out


def _built(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, int]]:
    """model -> (fingerprint, rows) as last built, for the models whose table still exists. Their
    tables are probed in one statement: listing duckdb_tables() of a lake cost 0.2-0.4 s a build.
    Asked outside a transaction (a missing table would abort it)."""
    try:
        rows = con.execute("select model, fingerprint, row_count from config.model_builds").fetchall()
    except (duckdb.CatalogException, duckdb.InvalidInputException):  # see model_failures()
        return {}
    built = {model: (fingerprint, count) for model, fingerprint, count in rows}
    if built and not _exists(con, ", ".join(sorted(built))):  # a table dropped by hand: find which
        built = {model: record for model, record in built.items() if _exists(con, model)}
    return built


def _recorded(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """model -> fingerprint as last built, from config.model_builds alone: enough to tell a run
    with nothing new, without _built()'s probe of the tables (a model's row and its table are
    written in one transaction, and a retired model loses both)."""
    try:
        return dict(con.execute("select model, fingerprint from config.model_builds").fetchall())
    except (duckdb.CatalogException, duckdb.InvalidInputException):  # see model_failures()
        return {}


def _built_one(con: duckdb.DuckDBPyConnection, key: str) -> tuple[str, int] | None:
    """_built() of one model, once per Dagster step: its own table and record alone."""
    if not _exists(con, key):
        return None
    return con.execute("select fingerprint, row_count from config.model_builds where model = ?", [key]).fetchone()


def _record(con: duckdb.DuckDBPyConnection, done: dict[str, str], rows: dict[str, int | None]) -> dict[str, int]:
    """Record each model's fingerprint and row count as built (`rows`, as _build() returned them;
    the tables whose count is unknown are counted); returns the row counts. In three or four
    statements: a delete + insert per model cost 2.3 s of a new day's build on a lake (100k)."""
    keys = sorted(done)
    if not keys:
        return {}
    counts = {key: rows[key] for key in keys if rows.get(key) is not None}
    uncounted = [key for key in keys if key not in counts]
    if uncounted:
        counts.update(con.execute(" union all ".join(f"select '{key}', count(*) from {key}" for key in uncounted)).fetchall())
    con.execute("delete from config.model_builds where model in (select unnest(?::varchar[]))", [keys])  # no keys
    con.execute("insert into config.model_builds select unnest(?::varchar[]), unnest(?::varchar[]),"
                " unnest(?::bigint[]), now()", [keys, [done[k] for k in keys], [counts[k] for k in keys]])
    return counts


def _record_failures(con: duckdb.DuckDBPyConnection, failures: dict[str, str], only: str | None = None) -> None:
    """config.model_failures: the models whose last build failed, and why (`tlsrpt status`, the
    Dagster check `every_model_built`). `only`: replace that model's row alone (one asset step)."""
    if only is None:
        con.execute("delete from config.model_failures")
    else:
        con.execute("delete from config.model_failures where model = ?", [only])
    for key, error in failures.items():
        con.execute("insert into config.model_failures values (?, ?, now())", [key, error])


def model_failures(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """model -> error, for the models whose last build failed (none before the first build)."""
    try:
        return dict(con.execute("select model, error from config.model_failures order by model").fetchall())
    except (duckdb.CatalogException, duckdb.InvalidInputException):  # the latter: the missing table's
        # name met this function's in the Python scope DuckDB scans for tables to replace
        return {}


def failed_models(settings: Settings) -> dict[str, str]:
    """model_failures() of the lake's newest snapshot, read-only (for the Dagster check)."""
    if not lake.exists(settings):
        return {}
    con = lake.open_lake(settings, read_only=True)
    try:
        return model_failures(con)
    finally:
        con.close()


def _readers_of(models: dict[str, Model], failed: set[str]) -> set[str]:
    """The failed models and every model that reads one of them, directly or not."""
    out = set(failed)
    for key in build_order(models):  # dependencies come first, so one pass sees every chain
        if models[key].deps & out:
            out.add(key)
    return out


def _drop_retired(con: duckdb.DuckDBPyConnection, models: dict[str, Model]) -> None:
    """Drop the tables of models this version no longer has (a model moved to another layer,
    say), so nobody queries a table that stopped being rebuilt. Only tables the builder made
    (config.model_builds names them: listing the lake's tables costs 0.2 s)."""
    for key in set(_recorded(con)) - set(models):
        con.execute(f"drop table if exists {key}")
        con.execute("delete from config.model_builds where model = ?", [key])


@contextmanager
def _builder(settings: Settings) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict[str, float]]]:
    """A model builder's connection under the writer lock, and the thresholds it builds with (read
    first: a bad config file fails before any lock)."""
    thresholds = load_thresholds(settings.data_dir)
    with writer_lock(settings.data_dir):
        con = connect(settings, threads=ALL_CORES, memory_limit=MODEL_BUILD_MEMORY)
        try:
            yield con, thresholds
        finally:
            con.close()


def build_one(settings: Settings, model: Model) -> int:
    """Rebuild one model (a Dagster asset step) unless its table is already what its inputs make
    it (a run with nothing new); return its row count."""
    with _builder(settings) as (con, thresholds):
        models = load_models()
        _ensure_bookkeeping(con)  # outside the transaction, as is each probe for a table below
        fingerprint = fingerprints(con, models, thresholds, settings.today)[model.key]
        built = _built_one(con, model.key)
        if built and built[0] == fingerprint:
            return built[1]
        shape = fingerprints(con, models, thresholds, settings.today, with_data=False)[model.key]
        increments = incremental.reach(models, build_order(models), {**DEFAULTS, **thresholds})
        failed = set(model_failures(con))
        config_due = _reads_config(model) and not config_is_current(con, thresholds, settings.today)
        con.execute("begin transaction")
        try:
            ledger = incremental.read_ledger(con)
            if config_due:
                write_config(con, thresholds, settings.today)
            elif "config.reporter_domains" in model.deps:
                add_reporter_names(con, _unnamed_batches(models, ledger))
            rows = _build(con, ledger, models, model.key, shape, increments, failed, built)
            incremental.save(con, ledger)
        except ModelError as exc:
            # The model keeps its last table; the failure is recorded for the asset check
            # (`every_model_built`) and `tlsrpt status`, and the steps after it go on.
            con.execute("rollback")
            con.execute("begin transaction")
            _record_failures(con, {model.key: exc.first_line}, only=model.key)
            con.execute("commit")
            raise
        rows = _record(con, {model.key: fingerprint}, {model.key: rows})[model.key]
        if model.key in failed:
            _record_failures(con, {}, only=model.key)
        con.execute("commit")
        return rows


def stale_models(con: duckdb.DuckDBPyConnection, thresholds: dict[str, float] | None = None,
                 today: date | None = None) -> list[str]:
    """The models whose table is missing or older than the data, SQL, thresholds or day behind it."""
    built = _built(con)
    wanted = fingerprints(con, load_models(), thresholds or DEFAULTS, today)
    return [key for key, fingerprint in wanted.items() if built.get(key, ("",))[0] != fingerprint]


@dataclass
class Build:
    """What one build of every model did: the models that failed (model -> the first line of
    its error), the ones left as they were because they read a failed one, and each model's row
    count after it (config.model_builds)."""

    failures: dict[str, str]
    kept: list[str]
    rows: dict[str, int]


def build_changed(settings: Settings) -> Build:
    """Bring every model up to date in one transaction, as `refresh_all` does, without recording
    the build for the readers (the Dagster run does that in its own step, dashboard_snapshot):
    one connection and one ledger for all of them, where a step per model paid its own
    (~0.3 s each at 1M reports: opening the lake, fingerprints, the ledger, its commit)."""
    with _builder(settings) as (con, thresholds):
        try:
            build_all(con, thresholds=thresholds, only_if_changed=True, today=settings.today)
            failures, kept = {}, []
        except ModelsFailed as exc:
            failures, kept = exc.failures, exc.kept
        rows = dict(con.execute("select model, row_count from config.model_builds").fetchall())
        return Build(failures, kept, rows)


def refresh_all(settings: Settings) -> list[str]:
    """Rebuild every model (after `tlsrpt ingest`), under the writer lock; nothing when every
    model is already built from the current data, SQL and thresholds (returns [] then)."""
    with _builder(settings) as (con, thresholds):
        try:
            order = build_all(con, thresholds=thresholds, only_if_changed=True, today=settings.today)
        except ModelsFailed:
            record_build(con, passed=False)  # committed, but readers keep the last passed build
            raise
        if order:
            record_build(con, passed=True)
            give_empty_models_statistics(con)
        return order


def kept_tables(models: dict[str, Model]) -> list[str]:
    """The models whose table a day's build keeps: the incremental ones (it adds their days) and
    those that do not follow the reports, directly or through another model (the posture
    checks' own). An empty one without statistics costs each later build that reads it."""
    follows: set[str] = set()
    for key in build_order(models):
        if follows & models[key].deps or _reads_reports(models[key]):
            follows.add(key)
    return sorted(key for key in models if key not in follows or incremental.declared(models[key].sql))


def give_empty_models_statistics(con: duckdb.DuckDBPyConnection) -> None:
    """After a build: empty_tables.give_models_statistics for the kept tables. Only later builds'
    speed rests on it, so a failure (a conflict with another writer, say) is a warning: the next
    build tries again."""
    try:
        give_models_statistics(con, kept_tables(load_models()))
    except duckdb.Error as exc:
        warnings.warn(f"empty model tables left without statistics (the next build tries again):"
                      f" {str(exc).strip().splitlines()[0]}", RuntimeWarning, stacklevel=2)


def build_all(con: duckdb.DuckDBPyConnection, models: dict[str, Model] | None = None,
              thresholds: dict[str, float] | None = None, only_if_changed: bool = False,
              today: date | None = None, full: bool = False) -> list[str]:
    """Bring every model up to date in dependency order, atomically: readers see the old marts or
    the new. An incremental model redoes only the days its new batches touched
    (pipeline/transform/incremental.py); `full` rebuilds every model in full.

    `thresholds` overrides detection defaults (pipeline.detect.detection_config); the config tables are
    written in the same transaction, so the marts always match the thresholds they show.
    `only_if_changed`: build nothing (return []) when every model's fingerprint is unchanged, and
    leave alone each model whose fingerprint is.
    A model that fails (on one domain's odd data, say) costs only itself and what reads it: the
    build is rolled back and done again without them, and ModelsFailed says which after the rest
    was committed. Never a frozen warehouse."""
    models = models or load_models()
    thresholds = thresholds or DEFAULTS
    order = build_order(models)
    today = judging_day(today)  # one day for the fingerprints and config.clock alike
    # Before the early return too: a version that adds a bookkeeping table creates it on the first
    # run, not on the first run with new data (one query when they are all there).
    _ensure_bookkeeping(con)
    wanted = fingerprints(con, models, thresholds, today)
    if only_if_changed and not full:
        recorded = _recorded(con)
        if all(recorded.get(key) == fingerprint for key, fingerprint in wanted.items()):
            return []
    shapes = fingerprints(con, models, thresholds, today, with_data=False)
    increments = incremental.reach(models, order, {**DEFAULTS, **thresholds})
    built = {} if full else _built(con)
    failed_before = set(model_failures(con))
    # An explicit build writes them whatever they hold, as it rebuilds every model.
    config_due = not (only_if_changed and config_is_current(con, thresholds, today))
    failures: dict[str, str] = {}
    while True:
        kept = _readers_of(models, set(failures))
        con.execute("begin transaction")
        try:
            ledger = incremental.read_ledger(con)
            if config_due:
                write_config(con, thresholds, today)
            else:
                add_reporter_names(con, _unnamed_batches(models, ledger))
            for layer in LAYERS:
                con.execute(f"create schema if not exists {layer}")
            done: dict[str, str] = {}  # the models built now; the others' records stand
            rows: dict[str, int | None] = {}  # their row counts, where the build knows them
            for key in order:
                # Skipped only on a run after new data: an explicit build rebuilds what no batch
                # records (a core table edited in place).
                unchanged = only_if_changed and key not in failed_before and built.get(key, ("",))[0] == wanted[key]
                if key not in kept and not unchanged:
                    rows[key] = _build(con, ledger, models, key, shapes[key], increments, failed_before, built.get(key))
                    done[key] = wanted[key]
            incremental.save(con, ledger)
            _drop_retired(con, models)
            _record(con, done, rows)
            _record_failures(con, failures)
            con.execute("commit")
            break
        except ModelError as exc:
            con.execute("rollback")  # DuckDB aborts the transaction on an error: start over without it
            if exc.model is None or exc.model in failures:
                raise
            failures[exc.model] = exc.first_line
        except BaseException:
            con.execute("rollback")
            raise
    if failures:
        raise ModelsFailed(failures, sorted(kept - set(failures)))
    return [key for key in order if key not in kept]
