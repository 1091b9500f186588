"""When the pipeline runs: a sensor on the inbox folder and a daily schedule."""


import os

import dagster as dg

from pipeline.resources import WarehouseResource

ingest_job = dg.define_asset_job("ingest_job", selection=dg.AssetSelection.all(), description="inbox -> landing -> core tables")

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
