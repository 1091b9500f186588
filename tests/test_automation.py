"""Scheduled runs out of the box (issue 15, item 11): a run that failed (here: another writer held
the warehouse) is retried by the inbox sensor until its inputs are committed, the schedules are
on by default, and `tlsrpt status` names the failed run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from assets import automation
from assets.automation import inbox_sensor
from assets.ingest import INBOX, ingest_inbox
from assets.resources import WarehouseResource
from pipeline.store.warehouse import writer_lock
from tests.conftest import query
from tests.test_definitions import _fill_inbox


def instance_at(data_dir: Path) -> dg.DagsterInstance:
    home = data_dir / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return dg.DagsterInstance.from_config(str(home))


def tick(instance: dg.DagsterInstance, resource: WarehouseResource, cursor: str | None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"warehouse": resource})
    return inbox_sensor(context), context.cursor


def run_as_the_daemon_would(instance, resource, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    """What the daemon does with a sensor's request: a run tagged with its run key."""
    tags = {"dagster/run_key": request.run_key, "dagster/sensor_name": "inbox_sensor"}
    return dg.materialize([INBOX, ingest_inbox], instance=instance, resources={"warehouse": resource},
                          tags=tags, raise_on_error=False)


def test_a_failed_run_is_retried_until_its_inputs_are_committed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    data_dir = tmp_path / "data"
    _fill_inbox(data_dir)
    instance, resource = instance_at(data_dir), WarehouseResource(data_dir=str(data_dir), workers=1)
    request, cursor = tick(instance, resource, None)
    assert isinstance(request, dg.RunRequest)
    with writer_lock(data_dir):  # another process writes: this run fails on the lock
        assert not run_as_the_daemon_would(instance, resource, request).success
    clock = [automation._now()]
    monkeypatch.setattr(automation, "_now", lambda: clock[0])
    waiting, cursor = tick(instance, resource, cursor)  # right after the failure: back off, do not hammer
    assert isinstance(waiting, dg.SkipReason) and "retry" in waiting.skip_message
    clock[0] += 3600
    retry, cursor = tick(instance, resource, cursor)
    assert isinstance(retry, dg.RunRequest) and retry.run_key != request.run_key
    assert run_as_the_daemon_would(instance, resource, retry).success
    assert query(data_dir, "select count(*) from reports") == [(2,)]
    done, _ = tick(instance, resource, cursor)
    assert isinstance(done, dg.SkipReason) and done.skip_message == "the inbox is empty"


def test_a_run_in_progress_is_not_requested_twice(tmp_path: Path):
    data_dir = tmp_path / "data"
    _fill_inbox(data_dir)
    instance, resource = instance_at(data_dir), WarehouseResource(data_dir=str(data_dir), workers=1)
    request, cursor = tick(instance, resource, None)
    instance.add_run(dg.DagsterRun(job_name="ingest_job", run_id="a" * 36, status=dg.DagsterRunStatus.STARTED,
                                   tags={"dagster/run_key": request.run_key, "dagster/sensor_name": "inbox_sensor"}))
    again, _ = tick(instance, resource, cursor)
    assert isinstance(again, dg.SkipReason)


def test_schedules_and_sensors_are_on_by_default():
    from assets.definitions import defs

    for schedule in defs.schedules:
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING, schedule.name
    for sensor in defs.sensors:
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING, sensor.name


def test_mailbox_poll_skips_without_an_imap_account(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("TLSRPT_IMAP_HOST", raising=False)
    result = automation.mailbox_poll(dg.build_schedule_context())
    assert isinstance(result, dg.SkipReason)


def _a_failed_run(data_dir: Path) -> dg.DagsterInstance:
    """An inbox run that failed (another writer held the warehouse), recorded on the data dir's instance."""
    _fill_inbox(data_dir)
    instance, resource = instance_at(data_dir), WarehouseResource(data_dir=str(data_dir), workers=1)
    request, _ = tick(instance, resource, None)
    with writer_lock(data_dir):
        run_as_the_daemon_would(instance, resource, request)
    return instance


def test_status_names_a_failed_run(tmp_path: Path):
    data_dir = tmp_path / "data"
    _a_failed_run(data_dir)
    shutil.rmtree(data_dir / "lake", ignore_errors=True)  # status must say it even before any table exists
    result = subprocess.run([sys.executable, "-m", "pipeline", "status", "--data-dir", str(data_dir)],
                            capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("last Dagster run"))
    assert "FAILED" in line and "another tlsrpt run is writing" in line


def test_the_last_run_line_is_kept_until_a_run_is_recorded(tmp_path: Path):
    """`tlsrpt run` with nothing new and `tlsrpt status` print the line without loading Dagster
    (~0.7 s) while the run file is as it was; a run recorded since is read from Dagster."""
    from assets.run_history import last_run_line
    from pipeline.settings import Settings

    data_dir = tmp_path / "data"
    instance = _a_failed_run(data_dir)
    settings = Settings(data_dir=data_dir)
    failed = last_run_line(settings)
    assert failed.startswith("last Dagster run: FAILED")
    without_dagster = ("import sys; sys.modules['dagster'] = None; from pipeline.settings import Settings; "
                       "from assets.run import nothing_new; from assets.run_history import last_run_line; "
                       f"print(last_run_line(Settings(data_dir={str(data_dir)!r})))")
    kept = subprocess.run([sys.executable, "-c", without_dagster], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout.strip() == failed

    instance.add_run(dg.DagsterRun(job_name="ingest_job", run_id="b" * 36, status=dg.DagsterRunStatus.SUCCESS))
    assert last_run_line(settings).startswith("last Dagster run: succeeded")


def test_the_daily_maintenance_job_merges_the_lake_and_says_so(tmp_path: Path):
    from assets.maintenance import maintenance_job
    from pipeline.settings import Settings
    from tests.unit.test_lake_maintenance import small_batches

    resource = WarehouseResource(data_dir=str(tmp_path / "data"), workers=1)
    nothing = maintenance_job.execute_in_process(resources={"warehouse": resource})
    assert nothing.success and not (tmp_path / "data" / "lake").exists()  # no lake yet: none created

    small_batches(Settings(data_dir=tmp_path / "data"), batches=20)
    result = maintenance_job.execute_in_process(resources={"warehouse": resource})
    assert result.success
    (output,) = [e for e in result.all_events if e.is_successful_output]
    metadata = {key: value.value for key, value in output.event_specific_data.metadata.items()}
    assert (metadata["files_before"], metadata["files_after"], metadata["snapshots_expired"]) == (40, 2, 0)


def test_maintenance_is_scheduled_on_its_own_job_outside_ingest_job():
    from assets.automation import daily_maintenance
    from assets.definitions import defs

    assert daily_maintenance in defs.schedules and daily_maintenance.job_name == "maintenance_job"
    assert "lake_maintenance" not in {node.name for node in defs.resolve_job_def("ingest_job").all_node_defs}


def test_tlsrpt_run_skips_dagster_only_while_nothing_the_models_rest_on_changed(tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch):
    """The early stop of `tlsrpt run` (assets/run.py): the lake and the packs as the last passed run
    left them, and also the models' SQL and the judging day, else the models would stay as the
    old code built them, and a quiet mailbox would never be judged stale on a later day."""
    from datetime import date

    from assets import run as tlsrpt_run
    from pipeline.settings import Settings
    from pipeline.transform import sql_models
    from tests.conftest import ingest_into

    ROOT = Path(__file__).parents[1]
    settings = Settings(data_dir=tmp_path / "data", today=date(2026, 3, 2))
    ingest_into(settings.data_dir, [ROOT / "tests" / "fixtures" / "reports"])
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    (settings.dagster_home / tlsrpt_run._LAST_GOOD).write_text(tlsrpt_run._state(settings))  # as a passed run does
    assert tlsrpt_run.nothing_new(settings).startswith("nothing new")
    assert tlsrpt_run.nothing_new(settings.model_copy(update={"today": date(2026, 3, 3)})) is None  # a new day
    models = sql_models.load_models()
    key = sorted(models)[0]
    edited = {**models, key: models[key].__class__(**{**models[key].__dict__, "sql": models[key].sql + "\n-- v2"})}
    monkeypatch.setattr(sql_models, "load_models", lambda: edited)  # an upgrade that changes one model's SQL
    assert tlsrpt_run.nothing_new(settings) is None
