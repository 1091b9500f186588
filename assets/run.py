"""`tlsrpt run`: materialize the whole asset graph once, on the persistent Dagster instance of the
data dir (assets/instance.py: under <data>/dagster, or PostgreSQL), so `dagster dev` later shows
the run and its lineage."""

from __future__ import annotations

from rich.console import Console

from pipeline.intake.inbox import inbox_fingerprint
from pipeline.settings import Settings
from pipeline.store import lake, landing
from pipeline.store.warehouse import WarehouseBusy
from pipeline.transform.sql_models import code_stamp

_LAST_GOOD = "last-good-run"  # under the Dagster home: the state a run left with every check passed


def _state(settings: Settings) -> str | None:
    """The lake as a run leaves it, plus the packs beside it (a crashed ingest leaves a pack
    its tables do not have yet) and what the models are built from besides them (their SQL,
    the thresholds, the judging day): equal strings, nothing changed in between."""
    committed = lake.commit_stamp(settings)
    if committed is None:
        return None
    packs = [batch for batch, _ in landing.pack_batches(settings.data_dir)]
    return f"{committed} {len(packs)} {packs[-1] if packs else ''} {code_stamp(settings)}"


def nothing_new(settings: Settings) -> str | None:
    """Why a run can stop before it starts, or None: nothing waits in the drop folders, no
    mailbox is configured, and the warehouse and its marts are what the last
    successful run (every check passed) left. A run with nothing new then costs a second, not
    a Dagster run that rebuilds and re-checks the same tables, nor the import of Dagster (~0.7 s)."""
    marker = settings.dagster_home / _LAST_GOOD
    state = _state(settings)
    if state is None or not marker.exists() or marker.read_text() != state:
        return None
    if settings.imap.host:  # a mailbox is configured (ImapResource.config() is not None)
        return None
    if any(inbox_fingerprint(str(folder))[0] for folder in settings.drop_folders()):
        return None
    return "nothing new: no input waiting, and the warehouse and its marts are as the last successful run left them"


def _root_error(error) -> tuple[str, str]:
    """The user's error inside Dagster's wrappers: (class name, its message's first line)."""
    while error.cause is not None:
        error = error.cause
    first = error.message.strip().splitlines()[0] if error.message.strip() else ""
    return error.cls_name or "error", first.removeprefix(f"{error.cls_name}: ")


def materialize_all(settings: Settings, console: Console) -> bool:
    import dagster as dg

    from assets.checks import core_checks, mart_checks
    from assets.ingest import INBOX, imap_mailbox, ingest_inbox
    from assets.instance import dagster_instance
    from assets.resources import ImapResource, WarehouseResource
    from assets.warehouse import every_model_built, model_assets

    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    with console.status("running the pipeline (inbox -> landing -> core tables -> SQL models)"):
        result = dg.materialize(
            [INBOX, imap_mailbox, ingest_inbox, *model_assets, *core_checks, *mart_checks, every_model_built],
            instance=dagster_instance(settings),
            resources={
                "warehouse": WarehouseResource(data_dir=str(settings.data_dir), workers=settings.workers),
                "imap": ImapResource.from_settings(settings.imap),
            },
            raise_on_error=False,
            # The CLI prints its own summary and one line per failed step (below); Dagster's
            # step-by-step lines and stack traces stay in the UI's event log.
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        )
    failures = [(event.step_key, _root_error(event.step_failure_data.error))
                for event in result.all_events if event.is_step_failure]
    for step, (kind, message) in failures:
        console.print(f"[red]step {step} failed:[/red] {kind}: {message}", highlight=False)
    busy = next((message for _, (kind, message) in failures if kind == "WarehouseBusy"), None)
    if busy is not None:  # another writer took the warehouse during the run: exit 3, like ingest
        raise WarehouseBusy(busy)
    for evaluation in result.get_asset_check_evaluations():
        mark = "[green]passed[/green]" if evaluation.passed else "[red]FAILED[/red]"
        console.print(f"check {evaluation.asset_key.to_user_string()}/{evaluation.check_name}: {mark}")
    ok = result.success and all(e.passed for e in result.get_asset_check_evaluations())
    marker = settings.dagster_home / _LAST_GOOD
    state = _state(settings) if ok else None
    if state:
        marker.write_text(state)
    else:
        marker.unlink(missing_ok=True)
    return ok


def main(argv: list[str]) -> int:
    """`tlsrpt run` execs this with the data dir it checked; prints what the CLI printed before."""
    import typer

    from assets.run_history import last_run_line
    from pipeline import status
    from pipeline.ingest_cli import clean_errors

    console, out = Console(stderr=True), Console()
    settings = Settings(data_dir=argv[0])
    if reason := nothing_new(settings):
        console.print(reason, highlight=False)
        status.print_status(settings, out, last_run_line(settings))
        return 0
    # Dagster loads only for a run, not for the early stop above.
    from assets.instance import DagsterStorageUnavailable

    try:
        with clean_errors(console, settings):  # another writer, a full disk: one line and its exit code
            ok = materialize_all(settings, console)
    except typer.Exit as exc:
        return exc.exit_code
    except DagsterStorageUnavailable as exc:  # nothing ran: the next run starts from the same inputs
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        return 3
    if not ok:
        console.print("[red]error:[/red] the run failed; see the messages above", highlight=False)
        return 2
    status.print_status(settings, out, last_run_line(settings))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
