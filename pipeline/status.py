"""`tlsrpt status`: what is in the warehouse, read through a short read-only connection to the
lake's newest snapshot (an ingest committing meanwhile does not hold it up)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
from rich.console import Console
from rich.table import Table

from pipeline.parse.rejection import REASONS
from pipeline.plain_text import text
from pipeline.settings import Settings
from pipeline.store import lake
from pipeline.store.settled_deliveries import SETTLED, SETTLED_AT_BUILD


def print_status(settings: Settings, out: Console, last_run: str | None = None) -> None:
    """`last_run`: the line on the last Dagster run (assets/run_history.py), when there is one."""
    if last_run:  # first: a failed scheduled run explains what follows
        out.print(text(last_run), soft_wrap=True)
    where = lake.location(settings).described
    if not lake.exists(settings):
        out.print(text(f"no warehouse yet at {where}: run `tlsrpt ingest PATH` or `tlsrpt run`"))
        return
    con = lake.open_lake(settings, read_only=True)
    try:
        if not con.execute("select count(*) from duckdb_tables() where database_name = current_database()"
                           " and table_name = 'ingest_batches'").fetchone()[0]:
            out.print(f"the warehouse at {where} has no tables yet (a run was stopped before it made"
                      " them): run `tlsrpt ingest PATH` or `tlsrpt run`", highlight=False)
            return
        # The path on its own line: as a table title it was wrapped inside the table's width.
        out.print(text(f"warehouse: {where} (snapshot {lake.current_snapshot(con)})"), soft_wrap=True)
        counts = Table("table", "rows")
        for table in ("reports", "policies", "failure_details", "deliveries"):
            counts.add_row(table, f"{con.execute(f'select count(*) from {table}').fetchone()[0]:,}")
        out.print(counts)
        last = con.execute(
            "select max(committed_at), count(*) from ingest_batches"
        ).fetchone()
        span = con.execute("select min(report_date), max(report_date), count(distinct organization_name) from reports").fetchone()
        out.print(text(f"last batch committed: {last[0]} ({last[1]} batches); reports cover {span[0]} .. {span[1]} from {span[2]} reporters"))
        # settled: a report two writers loaded at once counts as loaded once, its other copy as a duplicate;
        # with the models up to date, the copies the build found (grouping 1M keys again costs ~0.3 s)
        models = _model_state(con, settings)
        settled = SETTLED_AT_BUILD if models.up_to_date else SETTLED
        outcomes = con.execute(f"select outcome, count(*) from ({settled}) group by 1 order by 1").fetchall()
        out.print("deliveries: " + ", ".join(f"{o} {n:,}" for o, n in outcomes), highlight=False)
        rows = con.execute(
            "select reason_code, count(*), any_value(origin) from deliveries where outcome = 'quarantined' group by 1 order by 2 desc"
        ).fetchall()
        if rows:
            table = Table("reason", "inputs", "meaning", "example", title="quarantine")
            for code, count, example in rows:
                # Origins are paths and mail URLs a stranger may have named: text, never markup.
                shown = repr(example)  # the end of a long path names the file: keep that
                table.add_row(text(code), str(count), REASONS.get(code, ""), text(shown if len(shown) <= 60 else "…" + shown[-59:]))
            out.print(table)
        _print_model_state(models, out)
        _print_open_problems(con, out)
    finally:
        con.close()


@dataclass(frozen=True)
class ModelState:
    """Whether the marts reflect the core tables (`tlsrpt ingest --no-models` leaves them behind)."""

    config_error: str | None  # detection.toml cannot be read: the models cannot be rebuilt
    failures: dict[str, str]  # model -> error of its last build; it and what reads it keep their last tables
    stale: list[str]

    @property
    def up_to_date(self) -> bool:
        return self.config_error is None and not self.failures and not self.stale


def _model_state(con: duckdb.DuckDBPyConnection, settings: Settings) -> ModelState:
    from pipeline.detect.detection_config import DetectionConfigError, load_thresholds
    from pipeline.transform.sql_models import model_failures, stale_models

    try:
        thresholds = load_thresholds(settings.data_dir)
    except DetectionConfigError as exc:
        return ModelState(str(exc), {}, [])
    return ModelState(None, model_failures(con), stale_models(con, thresholds, settings.today))


def _print_model_state(models: ModelState, out: Console) -> None:
    if models.config_error is not None:
        out.print(text(f"SQL models: cannot be rebuilt: {models.config_error}"))
        return
    for model, error in models.failures.items():
        out.print(text(f"SQL model {model} failed to build: {error}"), soft_wrap=True)
    if models.stale:
        out.print(f"SQL models: {len(models.stale)} out of date with the core tables (`tlsrpt run` rebuilds them)",
                  highlight=False)
    else:
        out.print("SQL models: up to date", highlight=False)


# A terminal shows the worst few; a provider with thousands of domains may have thousands open
# (1,911 on the 1M benchmark world, 2.6 s to lay out as one table), which the dashboard lists.
OPEN_PROBLEMS_SHOWN = 25


def _print_open_problems(con: duckdb.DuckDBPyConnection, out: Console) -> None:
    """The worst open problems (detect.problems; absent before the first model build)."""
    try:
        total = con.execute("select count(*) from detect.problems where status = 'open'").fetchone()[0]
        rows = con.execute(
            # A literal, not a bound value: DuckDB's Python binding imports pandas (~0.3 s) on the
            # first statement with parameters, and a run with nothing new binds none before this.
            "select severity, title, first_seen from detect.problems where status = 'open'"
            f" order by severity_rank desc, first_seen, title limit {int(OPEN_PROBLEMS_SHOWN)}"
        ).fetchall()
    except duckdb.CatalogException:
        return
    if not rows:
        out.print("open problems: none")
        return
    shown = f"the worst {len(rows)} of {total:,}" if total > len(rows) else f"{total}"
    table = Table("severity", "problem", "since", title=f"open problems ({shown}; details: dashboard or detect.problems)")
    for severity, title, since in rows:
        table.add_row(text(severity), text(title), str(since))  # titles carry MX and reporter names
    out.print(table)
