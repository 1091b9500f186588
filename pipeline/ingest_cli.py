"""What the CLI shows around ingest, rebuild and generate: progress bars and summaries."""

from __future__ import annotations

import errno
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, NoReturn

import duckdb
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from pipeline.ingest import IngestSummary, ingest, ingest_drop_folders
from pipeline.parse.rejection import REASONS
from pipeline.settings import Settings
from pipeline.store import lake, rebuild
from pipeline.store.warehouse import WarehouseBusy
from pipeline.transform.sql_models import ModelError, ModelsFailed, refresh_all


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    )


def print_summary(summary: IngestSummary, settings: Settings, out: Console) -> None:
    quarantined = sum(summary.quarantined.values())
    rate = summary.inputs / summary.seconds if summary.seconds else 0.0
    out.print(
        f"{summary.inputs} inputs in {summary.seconds:.1f} s ({rate:,.0f}/s): "
        f"[green]{summary.loaded} loaded[/green], {summary.duplicates} duplicate, "
        f"[yellow]{quarantined} quarantined[/yellow]"
        + (f" (replayed {summary.replayed_batches} unfinished batches)" if summary.replayed_batches else ""),
        highlight=False,
    )
    if quarantined:
        table = Table("reason", "count", "meaning", title="quarantined")
        for code, count in summary.quarantined.most_common():
            table.add_row(code, str(count), REASONS.get(code, ""))
        out.print(table)
    out.print(f"warehouse: {lake.location(settings).described}", highlight=False)


def disk_full(exc: BaseException) -> bool:
    """ENOSPC, from Python's own writes (packs) or inside DuckDB (its message)."""
    if isinstance(exc, OSError):
        return exc.errno == errno.ENOSPC
    return isinstance(exc, duckdb.Error) and "No space left on device" in str(exc)


@contextmanager
def clean_errors(console: Console, settings: Settings) -> Iterator[None]:
    """What a user meets (another local writer, an unreachable catalog, a full disk) as one
    line and an exit code, never a traceback. A batch commits whole or not at all, so after
    any of them nothing is half-written, and the next run loads what this one could not."""
    try:
        yield
    except (WarehouseBusy, lake.LakeUnavailable) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(3) from None
    except (OSError, duckdb.Error) as exc:
        if isinstance(exc, (duckdb.IOException, duckdb.HTTPException)) and not disk_full(exc):
            # the lake's files cannot be used: its data path unwritable (a missing mount, no
            # permission, S3 refusing) or the catalog gone mid-run; the batch was not committed
            where = lake.location(settings).data_path
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            console.print(f"[red]error:[/red] cannot use the warehouse's data files at {escape(where)}: {escape(first)}",
                          highlight=False, soft_wrap=True)
            raise typer.Exit(3) from None
        if not disk_full(exc):
            raise
        console.print(f"[red]error:[/red] no space left on the device of {settings.data_dir}: the unfinished batch"
                      " was not committed; free some space and run again", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _models_failed(exc: ModelError, summary: IngestSummary, settings: Settings, console: Console, out: Console) -> NoReturn:
    print_summary(summary, settings, out)
    first_line = exc.first_line
    if isinstance(exc, ModelsFailed):  # the rest was rebuilt and committed; say what is not
        console.print(f"[red]error:[/red] SQL model {first_line}", highlight=False, soft_wrap=True)
    else:
        console.print(f"[red]error:[/red] the SQL models were not rebuilt: {first_line}", highlight=False, soft_wrap=True)
    raise typer.Exit(1) from None


NOT_REBUILT = "SQL models not rebuilt (--no-models; the dashboard keeps the last build): `tlsrpt run` rebuilds them"


def run_ingest(paths: list[Path], settings: Settings, console: Console, out: Console, models: bool = True) -> IngestSummary:
    """Ingest, then (unless `models` is False) rebuild the SQL models (a build readers pin)."""
    try:
        with clean_errors(console, settings):
            with _progress(console) as bar:
                task = bar.add_task("ingesting", total=None)
                summary = ingest(paths, settings, progress=lambda n: bar.advance(task, n))
            if models:
                with console.status("rebuilding the SQL models (staging -> marts)"):
                    refresh_all(settings)
    except ModelError as exc:  # the reports are committed; only the marts are stale
        _models_failed(exc, summary, settings, console, out)
    print_summary(summary, settings, out)
    if not models:
        out.print(NOT_REBUILT, highlight=False)
    return summary


def load_drop_folders(settings: Settings, console: Console, out: Console, models: bool = True) -> None:
    """Land what waits in the inbox and the spools, then (unless `models` is False: an intake
    machine of a shared lake, docs/deployment.md) rebuild the marts."""
    with clean_errors(console, settings), console.status("loading the drop folders"):
        summary, _ = ingest_drop_folders(settings)
        try:
            if models:
                refresh_all(settings)
        except ModelError as exc:  # the reports are committed; only (some of) the marts are stale
            _models_failed(exc, summary, settings, console, out)
    print_summary(summary, settings, out)
    if not models:
        out.print(NOT_REBUILT, highlight=False)


def run_rebuild(settings: Settings, console: Console, out: Console) -> None:
    """Set the old lake aside, replay every pack into a new one (the posture checks, which no
    pack holds, carried over first), then drop the old lake; restore it if the replay fails."""
    with clean_errors(console, settings):
        with rebuild.old_lake_aside(settings):
            with _progress(console) as bar:
                task = bar.add_task("replaying the landing zone", total=None)
                summary = ingest([], settings, progress=lambda n: bar.advance(task, n), replay_only=True)
        try:
            refresh_all(settings)
        except ModelError as exc:  # the core tables are rebuilt; only the marts are stale
            _models_failed(exc, summary, settings, console, out)
    print_summary(summary, settings, out)
    if rebuild.is_shared(settings):
        out.print("shared lake: this machine's landing packs were replayed into it (reports other machines already "
                  "loaded count as duplicates); to recreate a shared lake, point TLSRPT_CATALOG and TLSRPT_DATA_PATH "
                  "at a new, empty catalog and data path and run `tlsrpt rebuild` on every machine that ingests",
                  highlight=False)


def run_generate(out_dir: Path, domains: int | None, days: int | None, seed: int, reports: int | None,
                 formats: list[str], console: Console, out: Console,
                 scenarios: list[str] | None = None) -> None:
    import json

    from pipeline.generate import write_corpus

    with _progress(console) as bar:
        task = bar.add_task("generating", total=reports)
        summary = write_corpus(out_dir, domains=domains, days=days, seed=seed, reports=reports,
                               formats=formats, progress=lambda n: bar.update(task, completed=n),
                               scenarios=scenarios)
    out.print(f"wrote {summary.reports} reports to {out_dir}", highlight=False)
    if scenarios is not None:
        truth = json.loads((out_dir / "incidents.json").read_text())
        for inc in truth["incidents"]:
            where = inc["policy_domain"] or f"reporter {inc['reporter']}"
            out.print(f"  {inc['id']}: {where} from {inc['first_day']} to {inc['last_day'] or 'the end'}",
                      highlight=False)
        out.print(f"ground truth: {out_dir / 'incidents.json'} ({len(truth['clean_domains'])} clean domains)",
                  highlight=False)
