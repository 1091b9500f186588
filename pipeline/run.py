"""`tlsrpt run`: materialize the whole asset graph once, on a persistent local Dagster instance
under <data>/dagster, so `dagster dev` later shows the run and its lineage."""

from __future__ import annotations

import os

import dagster as dg
from rich.console import Console

from pipeline.settings import Settings

_INSTANCE_YAML = "telemetry:\n  enabled: false\n"


def dagster_instance(settings: Settings) -> dg.DagsterInstance:
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(_INSTANCE_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def materialize_all(settings: Settings, console: Console) -> bool:
    from assets.checks import core_checks, mart_checks
    from assets.ingest import INBOX, imap_mailbox, ingest_inbox
    from assets.warehouse import model_assets
    from pipeline.resources import ImapResource, WarehouseResource

    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    with console.status("running the pipeline (inbox -> landing -> core tables -> SQL models)"):
        result = dg.materialize(
            [INBOX, imap_mailbox, ingest_inbox, *model_assets, *core_checks, *mart_checks],
            instance=dagster_instance(settings),
            resources={
                "warehouse": WarehouseResource(data_dir=str(settings.data_dir), workers=settings.workers),
                "imap": ImapResource.from_env(),
            },
            raise_on_error=False,
            # The CLI prints its own summary; Dagster's step-by-step DEBUG lines stay in the UI.
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
    for evaluation in result.get_asset_check_evaluations():
        mark = "[green]passed[/green]" if evaluation.passed else "[red]FAILED[/red]"
        console.print(f"check {evaluation.asset_key.to_user_string()}/{evaluation.check_name}: {mark}")
    return result.success and all(e.passed for e in result.get_asset_check_evaluations())
