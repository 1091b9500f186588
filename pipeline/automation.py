"""When the pipeline runs: a sensor on the inbox folder and a daily schedule; when alerts go out."""


import os

import dagster as dg

from pipeline.resources import WarehouseResource

# Everything but the network probes of the posture checks (their own daily job, assets/posture.py).
ingest_job = dg.define_asset_job("ingest_job", selection=dg.AssetSelection.all() - dg.AssetSelection.assets("posture_checks"),
                                 description="inbox -> landing -> core tables")

# Daily, after the big reporters have sent yesterday's reports (Google mails 10-16 h after the day).
daily_ingest = dg.ScheduleDefinition(job=ingest_job, cron_schedule="0 17 * * *", execution_timezone="UTC")


# Every 30 minutes: fetch new mail when an IMAP account is configured (the step is skipped otherwise).
mailbox_poll = dg.ScheduleDefinition(
    name="mailbox_poll", job=ingest_job, cron_schedule="*/30 * * * *", execution_timezone="UTC",
)


def inbox_fingerprint(inbox: str) -> tuple[int, int]:
    """(number of waiting files, newest mtime in ns): changes whenever a file is dropped in."""
    count, newest = 0, 0
    for folder, dirs, files in os.walk(inbox):
        dirs[:] = [d for d in dirs if not d.startswith(".") or os.path.isdir(os.path.join(folder, d, "cur"))]
        for name in files:
            if name.startswith(".") or name.endswith(".tmp"):
                continue
            try:
                newest = max(newest, os.lstat(os.path.join(folder, name)).st_mtime_ns)
            except FileNotFoundError:
                continue
            count += 1
    return count, newest


@dg.sensor(job=ingest_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def inbox_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    """Requests an ingest run when files wait in the inbox or the HTTPS spool (the run moves them to processed/)."""
    count, newest = 0, 0
    for folder in warehouse.settings().drop_folders():
        waiting, latest = inbox_fingerprint(str(folder))
        count, newest = count + waiting, max(newest, latest)
    if count == 0:
        return dg.SkipReason("the inbox is empty")
    key = f"{count}-{newest}"
    if key == context.cursor:
        return dg.SkipReason("no new files since the last request")
    context.update_cursor(key)
    return dg.RunRequest(run_key=f"inbox-{key}")


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def alert_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    """Sends alerts (docs/alerts.md) when a new snapshot is published or alerts.toml changes, and
    retries channels that failed; skips at once while there is no alerts.toml."""
    from pipeline.alerts.run import run_alerts
    from pipeline.alerts.state import AlertsBusy
    from pipeline.snapshot import current

    settings = warehouse.settings()
    config = settings.alerts_config_path
    if not config.exists():
        return dg.SkipReason(f"no alerts config at {config}")
    published = current(settings)
    if published is None:
        return dg.SkipReason("no published snapshot yet")
    # The snapshot name changes on every publish, by a Dagster run or by `tlsrpt ingest` alike.
    key = f"{published.name}|{config.stat().st_mtime_ns}"
    if context.cursor == key:
        return dg.SkipReason(f"no new snapshot since {published.name}")
    try:
        result = run_alerts(settings)  # a bad config raises: the tick shows the one-line error
    except AlertsBusy as exc:
        return dg.SkipReason(str(exc))
    for outcome in result.failed:
        context.log.warning(f"{outcome.event.channel}: {outcome.error}")
    # After a failure the cursor differs from the key, so the next tick tries the failed channel again.
    context.update_cursor(key if not result.failed else f"{key}|retry")
    if result.reason:
        return dg.SkipReason(result.reason)
    return dg.SkipReason(f"{len(result.sent)} alert(s) sent, {len(result.failed)} failed, "
                         f"{len(result.decision.held) if result.decision else 0} held back")
