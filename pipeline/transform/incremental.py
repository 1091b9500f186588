"""Incremental model builds: recompute only the report dates new batches touched.

A model opts in with a header line `-- incremental: <date column>, lookback <n> days` (n: a
number, a threshold name of config.thresholds, or `all` for every later date: running sums over
all history). Its rows of day D may then rest only on its inputs' rows of days D - n .. D, and
it may read only core and config tables and other incremental models (checked: `plan` refuses
anything else, since a model rebuilt in full may change any of its days).

Which batches a model's table holds is recorded per model in config.built_batches (batch ids,
not the newest id: writers on several machines commit out of id order). A model's new batches
are the committed ones its table lacks, and that its model inputs already hold, so a model
built over an input that stayed behind (a failed step) catches up when that input does. Their
report dates (late reports weeks back included), widened by the look-backs along every path
from the core tables to the model, are the days deleted and inserted again; everything else
that can change a model (its SQL, the thresholds, the vocabulary, a new judging day, a missing
table, a failed last build) changes its shape and rebuilds it in full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from pipeline.store.sql_text import sql_text

_HEADER = re.compile(r"^-- incremental: ([a-z_][a-z0-9_]*), lookback ([a-z0-9_]+)(?: days?)?\s*$", re.M)
ALL_LATER = 10**6  # days: `lookback all`, every later date (date arithmetic stays in range)
BATCHES = "config.built_batches"
SHAPES = "config.model_shapes"
DAYS = "config.batch_days"


@dataclass(frozen=True)
class Increment:
    """What a model's header declares: the date column it is deleted and inserted by, and how
    many days after an input's day that day still reaches (int) or the threshold that says so."""

    date_column: str
    lookback: int | str


def declared(sql: str) -> Increment | None:
    match = _HEADER.search(sql)
    if match is None:
        return None
    column, lookback = match.groups()
    if lookback == "all":
        return Increment(column, ALL_LATER)
    return Increment(column, int(lookback) if lookback.isdigit() else lookback)


def reach(models: dict, order: list[str], thresholds: dict[str, float]) -> dict[str, int]:
    """model -> days after a touched core day that its rows may change (the look-backs summed
    along the longest path), for the incremental models; refuses one that reads a model
    rebuilt in full."""
    out: dict[str, int] = {}
    for key in order:
        increment = declared(models[key].sql)
        if increment is None:
            continue
        if not isinstance(increment.lookback, int) and increment.lookback not in thresholds:
            raise ValueError(f"{key}: lookback {increment.lookback} is neither a number of days, all, nor a threshold")
        own = increment.lookback if isinstance(increment.lookback, int) else int(thresholds[increment.lookback])
        inputs = [d for d in models[key].deps if d in models]
        full = sorted(d for d in inputs if d not in out)
        if full:
            raise ValueError(f"{key} is declared incremental but reads {full}, rebuilt in full: any of its days may change")
        out[key] = min(ALL_LATER, own + max((out[d] for d in inputs), default=0))
    return out


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    # No keys: the lake has none; rows are replaced per model by delete + insert.
    con.execute("create schema if not exists config")
    con.execute(f"create table if not exists {BATCHES} (model varchar, batch_id varchar)")
    con.execute(f"create table if not exists {SHAPES} (model varchar, shape varchar)")
    con.execute(f"create table if not exists {DAYS} (batch_id varchar, report_date date)")


@dataclass
class Ledger:
    """The bookkeeping of one build, read once and written once: each query costs tens of
    milliseconds on a lake, against a few for the delete + insert of one day."""

    committed: set[str]  # main.ingest_batches
    held: dict[str, set[str]]  # model -> the batches its table holds
    shapes: dict[str, str]  # model -> the shape it was built in
    days: dict[str, list[date]]  # batch -> the report dates it loaded (filled as needed)
    rebuilt: set[str]  # models built in full in this build: their old rows go
    added: dict[str, set[str]]  # model -> batches it took in in this build


def read_ledger(con: duckdb.DuckDBPyConnection) -> Ledger:
    held: dict[str, set[str]] = {}
    for model, batch in con.execute(f"select model, batch_id from {BATCHES}").fetchall():
        held.setdefault(model, set()).add(batch)
    return Ledger(committed={b for (b,) in con.execute("select batch_id from main.ingest_batches").fetchall()},
                  held=held, shapes=dict(con.execute(f"select model, shape from {SHAPES}").fetchall()),
                  days={}, rebuilt=set(), added={})


def touched_days(con: duckdb.DuckDBPyConnection, ledger: Ledger, batches: set[str]) -> list[date]:
    """The report dates the batches loaded reports for (a report's policies and details share
    its date); every copy of a report key counts, whichever copy the staging models keep.

    Found once per batch and kept in config.batch_days (a row per date, and one without a date
    that says the batch is done): the lookup joins the batch's keys with every report, which a
    Dagster run would otherwise pay in each incremental model's step (~0.1 s each at 1M reports,
    more with every month of history). A batch's dates never change: a later copy of one of its
    keys brings the old copy's date with its own batch."""
    unknown = sorted(batches - set(ledger.days))
    if not unknown:
        return sorted({day for b in batches for day in ledger.days[b]})
    # The batches as literals (sql_models.add_reporter_names says why).
    listed = ", ".join(map(sql_text, unknown))
    cached = con.execute(f"select batch_id, report_date from {DAYS} where batch_id in ({listed})").fetchall()
    found = {batch for batch, _ in cached}
    rows = [(batch, day) for batch, day in cached if day is not None]
    missing = [batch for batch in unknown if batch not in found]
    if missing:
        new = con.execute(
            "select distinct d.batch_id, r.report_date from main.deliveries as d"
            " join main.reports as r on d.report_key = r.report_key"
            f" where d.outcome = 'loaded' and d.batch_id in ({', '.join(map(sql_text, missing))})").fetchall()
        rows.extend(new)
        keep = new + [(batch, None) for batch in missing]
        con.execute(f"insert into {DAYS} select unnest(?::varchar[]), unnest(?::date[])",
                    [[b for b, _ in keep], [d for _, d in keep]])
    ledger.days.update({b: [] for b in unknown})
    for batch, day in rows:
        ledger.days[batch].append(day)
    return sorted({day for b in batches for day in ledger.days[b]})


def day_ranges(days: list[date], reach_days: int) -> list[tuple[date, date]]:
    """The touched days, each widened to the days it reaches, merged into sorted ranges."""
    out: list[tuple[date, date]] = []
    for day in sorted(days):
        end = date.max if reach_days >= ALL_LATER else day + timedelta(days=reach_days)
        if out and day - timedelta(days=1) <= out[-1][1]:  # adjacent or overlapping
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((day, end))
    return out


@dataclass(frozen=True)
class Step:
    """How one build treats a model: `ranges` None = in full, else the day ranges to redo."""

    batches: set[str]
    ranges: list[tuple[date, date]] | None


def step(con: duckdb.DuckDBPyConnection, ledger: Ledger, model, shape: str, increments: dict[str, int],
         failed: set[str], exists: bool) -> Step | None:
    """None for a model built in full the old way (not incremental); else its Step. A model can
    hold the committed batches, but no more than each of its model inputs holds."""
    if model.key not in increments:
        return None
    available = set(ledger.committed)
    for dep in model.deps:
        if dep in increments:
            available &= ledger.held.get(dep, set())
    held = ledger.held.get(model.key, set())
    if not exists or model.key in failed or ledger.shapes.get(model.key) != shape or held - available:
        # held - available: it holds a batch an input lost (rebuilt from less): start over
        return Step(available, None)
    return Step(available, day_ranges(touched_days(con, ledger, available - held), increments[model.key]))


def apply(con: duckdb.DuckDBPyConnection, key: str, sql: str, ranges: list[tuple[date, date]]) -> int:
    """Delete the model's rows of those days and insert them from its SQL, filtered to them;
    returns the rows inserted less the rows deleted."""
    if not ranges:
        return 0
    column = declared(sql).date_column
    where = " or ".join(f"{column} between ? and ?" for _ in ranges)
    bounds = [bound for pair in ranges for bound in pair]
    (deleted,) = con.execute(f"delete from {key} where {where}", bounds).fetchone()
    (inserted,) = con.execute(f"insert into {key} select * from ({sql}\n) where {where}", bounds).fetchone()
    return inserted - deleted


def record(ledger: Ledger, key: str, shape: str, built: Step) -> None:
    """The model now holds `built.batches` and was built in this shape (written by `save`)."""
    if built.ranges is None:
        ledger.rebuilt.add(key)
        ledger.added[key] = set(built.batches)
    else:
        ledger.added[key] = ledger.added.get(key, set()) | (built.batches - ledger.held.get(key, set()))
    ledger.held[key] = set(built.batches)
    ledger.shapes[key] = shape


def save(con: duckdb.DuckDBPyConnection, ledger: Ledger) -> None:
    """Write what `record` noted: the shapes of the models built, their batches (all of them for
    a model rebuilt in full, the new ones for the others), in a few statements."""
    built = sorted(ledger.added)
    if not built:
        return
    con.execute(f"delete from {SHAPES} where model in (select unnest(?::varchar[]))", [built])
    con.execute(f"insert into {SHAPES} select unnest(?::varchar[]), unnest(?::varchar[])",
                [built, [ledger.shapes[k] for k in built]])
    if ledger.rebuilt:
        con.execute(f"delete from {BATCHES} where model in (select unnest(?::varchar[]))", [sorted(ledger.rebuilt)])
    pairs = [(k, b) for k in built for b in sorted(ledger.added[k])]
    if pairs:
        con.execute(f"insert into {BATCHES} select unnest(?::varchar[]), unnest(?::varchar[])",
                    [[k for k, _ in pairs], [b for _, b in pairs]])
    ledger.rebuilt.clear()
    ledger.added.clear()
