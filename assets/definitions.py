"""The one Dagster `Definitions` of the project (workspace.yaml and [tool.dg] point here)."""

from __future__ import annotations

import dagster as dg

from assets.automation import (
    alert_sensor,
    daily_ingest,
    daily_maintenance,
    inbox_sensor,
    ingest_job,
    mailbox_poll,
)
from assets.checks import core_checks, mart_checks
from assets.ingest import INBOX, imap_mailbox, ingest_inbox
from assets.maintenance import maintenance_job
from assets.posture import (
    posture_checks,
    posture_daily,
    posture_job,
    posture_model_checks,
)
from assets.resources import ImapResource, WarehouseResource
from assets.warehouse import every_model_built, model_assets
from pipeline.settings import Settings

defs = dg.Definitions(
    assets=[INBOX, imap_mailbox, ingest_inbox, *model_assets, posture_checks],
    asset_checks=[*core_checks, *mart_checks, *posture_model_checks, every_model_built],
    jobs=[ingest_job, posture_job, maintenance_job],
    schedules=[daily_ingest, mailbox_poll, posture_daily, daily_maintenance],
    sensors=[inbox_sensor, alert_sensor],
    resources={"warehouse": WarehouseResource(), "imap": ImapResource.from_settings(Settings().imap)},
    # One process per step costs ~3 s each here; the steps are cheap to run in-process.
    executor=dg.in_process_executor,
)
