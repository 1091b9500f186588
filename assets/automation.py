"""When the pipeline runs: a sensor on the inbox folder and a daily schedule; when alerts go out;
when the lake is maintained.

Everything is on by default (`dagster dev` or `dagster-daemon run` ticks them), so scheduled runs
need no switch in the UI."""


import json
import time

import dagster as dg

from assets.maintenance import maintenance_job
from assets.resources import ImapResource, WarehouseResource
from pipeline.intake.inbox import inbox_fingerprint
from pipeline.settings import Settings

# Everything but the network probes of the posture checks (their own daily job, assets/posture.py).
ingest_job = dg.define_asset_job("ingest_job", selection=dg.AssetSelection.all() - dg.AssetSelection.assets("posture_checks"),
                                 description="inbox -> landing -> core tables")

# Daily, after the big reporters have sent yesterday's reports (Google mails 10-16 h after the day).
daily_ingest = dg.ScheduleDefinition(job=ingest_job, cron_schedule="0 17 * * *", execution_timezone="UTC",
                                     default_status=dg.DefaultScheduleStatus.RUNNING)

# Daily, an hour after the daily ingest, so that the day's many small batches (the mailbox poll
# commits every 30 minutes) are merged the same day (pipeline/store/maintenance.py).
daily_maintenance = dg.ScheduleDefinition(job=maintenance_job, cron_schedule="0 18 * * *", execution_timezone="UTC",
                                          default_status=dg.DefaultScheduleStatus.RUNNING)


@dg.schedule(job=ingest_job, cron_schedule="*/30 * * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING)
def mailbox_poll(context: dg.ScheduleEvaluationContext):
    """Every 30 minutes: fetch new mail, when an IMAP account is configured (TLSRPT_IMAP_*)."""
    if ImapResource.from_settings(Settings().imap).config() is None:
        return dg.SkipReason("no IMAP account configured (TLSRPT_IMAP_HOST)")
    return dg.RunRequest()


# A run that failed (another writer held the warehouse, a full disk...) left its inputs in the
# inbox: they are requested again, after a pause that doubles with each failure up to an hour.
RETRY_AFTER_SECONDS = 60
RETRY_AFTER_MAX_SECONDS = 3600
SENSOR_NAME = "inbox_sensor"
_now = time.time  # the sensor's clock (tests move it instead of waiting an hour)
_IN_FLIGHT = {dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
              dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING, dg.DagsterRunStatus.MANAGED}


@dg.sensor(name=SENSOR_NAME, job=ingest_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def inbox_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    """Requests an ingest run when files wait in the inbox or the HTTPS spool (the run moves them to processed/)."""
    count, newest = 0, 0
    for folder in warehouse.settings().drop_folders():
        waiting, latest = inbox_fingerprint(str(folder))
        count, newest = count + waiting, max(newest, latest)
    if count == 0:
        return dg.SkipReason("the inbox is empty")
    key = f"{count}-{newest}"
    # The cursor is the inbox state last requested, its retries and when: it moves past those
    # inputs only once a run for them succeeded (which moves them to processed/).
    last_request = _read_cursor(context.cursor)
    attempt = last_request.get("attempt", 0)
    if key != last_request.get("inbox"):
        return _request(context, key, 0)
    records = context.instance.get_run_records(
        dg.RunsFilter(tags={"dagster/run_key": _run_key(key, attempt), "dagster/sensor_name": SENSOR_NAME}), limit=1)
    if not records:  # requested, but no run was created (the daemon stopped in between): ask again later
        if _now() < last_request.get("at", 0) + RETRY_AFTER_MAX_SECONDS:
            return dg.SkipReason("waiting for the run requested for these inputs")
        return _request(context, key, attempt + 1)
    last = records[0]
    if last.dagster_run.status in _IN_FLIGHT:
        return dg.SkipReason(f"the run for these inputs ({last.dagster_run.run_id[:8]}) has not finished")
    if last.dagster_run.status == dg.DagsterRunStatus.SUCCESS:
        return dg.SkipReason("no new files since the last request")
    pause = min(RETRY_AFTER_SECONDS * 2 ** attempt, RETRY_AFTER_MAX_SECONDS)
    if _now() < (last.end_time or 0) + pause:
        return dg.SkipReason(f"run {last.dagster_run.run_id[:8]} failed; its inputs retry {pause} s after it ended")
    return _request(context, key, attempt + 1)


def _read_cursor(cursor: str | None) -> dict:
    try:
        value = json.loads(cursor or "{}")
    except ValueError:  # a cursor from before retries: the inbox state alone
        return {"inbox": cursor}
    return value if isinstance(value, dict) else {}


def _request(context: dg.SensorEvaluationContext, key: str, attempt: int) -> dg.RunRequest:
    context.update_cursor(json.dumps({"inbox": key, "attempt": attempt, "at": _now()}))
    return dg.RunRequest(run_key=_run_key(key, attempt))


def _run_key(key: str, attempt: int) -> str:
    return f"inbox-{key}" + (f"-retry{attempt}" if attempt else "")


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def alert_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    """Sends alerts (docs/alerts.md) when a model build passes (a new snapshot to read) or
    alerts.toml changes, and retries channels that failed; skips at once while there is no alerts.toml."""
    from pipeline.alerts.run import run_alerts
    from pipeline.alerts.state import AlertsBusy
    from pipeline.store.builds import snapshot_to_read

    settings = warehouse.settings()
    config = settings.alerts_config_path
    if not config.exists():
        return dg.SkipReason(f"no alerts config at {config}")
    published = snapshot_to_read(settings)
    if published is None:
        return dg.SkipReason("no warehouse yet")
    # The snapshot changes with every passed build, by a Dagster run or by `tlsrpt ingest` alike.
    key = f"{published}|{config.stat().st_mtime_ns}"
    if context.cursor == key:
        return dg.SkipReason(f"no new snapshot since {published}")
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
