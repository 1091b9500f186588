"""The last Dagster run on this data dir (inbox sensor, schedule or `tlsrpt run`), for `tlsrpt
status`: a run that failed there is otherwise seen only in the Dagster UI."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

from pipeline.plain_text import visible
from pipeline.settings import Settings


def last_run_line(settings: Settings) -> str | None:
    """One line on the newest run, or None when this data dir has no Dagster run history."""
    if not settings.has_dagster_history:
        return None  # dagster is slow to import: only when there is a history to read
    stamp = _runs_file_stamp(settings)
    cache = settings.dagster_home / _CACHE
    if stamp is not None:
        try:
            kept = json.loads(cache.read_text())
            if kept["stamp"] == stamp:
                return kept["line"]
        except (OSError, ValueError, KeyError, TypeError):
            pass  # no line kept yet, or a torn one: read the history
    line, settled = _read_last_run(settings)
    if stamp is not None and settled:
        _keep(cache, {"stamp": stamp, "line": line})
    return line


# The line as last read, with the run file's stamp then: `tlsrpt run` with nothing new and
# `tlsrpt status` print it without loading Dagster (~0.7 s) while no run has been recorded since.
_CACHE = "last-run-line.json"


def _runs_file_stamp(settings: Settings) -> list[int] | None:
    """(mtime ns, size) of the SQLite file every run's status is written to; None with the runs
    in PostgreSQL, where only a connection can tell whether a run was recorded since."""
    if settings.dagster_postgres:
        return None
    try:
        info = os.stat(settings.dagster_home / "history" / "runs.db")
    except OSError:
        return None
    return [info.st_mtime_ns, info.st_size]


def _keep(path: Path, value: dict) -> None:
    temporary = path.with_suffix(".tmp")
    try:
        temporary.write_text(json.dumps(value))
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only data dir: the line is read from Dagster each time


def _read_last_run(settings: Settings) -> tuple[str | None, bool]:
    """The line, and whether it holds until a run is recorded (not when the storage failed)."""
    import dagster as dg

    from assets.instance import DagsterStorageUnavailable, open_instance

    try:
        instance = open_instance(settings)
    except DagsterStorageUnavailable as exc:
        return f"last Dagster run: unknown ({exc})", False
    try:
        records = instance.get_run_records(limit=1)
        if not records:
            return None, True
        record, run = records[0], records[0].dagster_run
        stamp = record.end_time or record.create_timestamp.timestamp()
        when = f"{datetime.fromtimestamp(stamp, timezone.utc):%Y-%m-%d %H:%M} UTC"
        name = f"{run.job_name.strip('_')}, run {run.run_id[:8]}"
        if run.status == dg.DagsterRunStatus.SUCCESS:
            return f"last Dagster run: succeeded at {when} ({name})", True
        if run.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED):
            return (f"last Dagster run: FAILED at {when} ({name}): {_first_error(instance, run.run_id)}; "
                    "the inbox sensor retries the inputs it did not commit"), True
        return f"last Dagster run: {run.status.value.lower()} ({name}, started {when})", True
    finally:
        instance.dispose()


def _first_error(instance, run_id: str) -> str:
    import dagster as dg

    for entry in instance.all_logs(run_id, of_type={dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE}):
        event = entry.dagster_event
        error = getattr(event.event_specific_data, "error", None) if event else None
        while error is not None and error.cause is not None:  # Dagster wraps the user code's error
            error = error.cause
        if error is not None:
            # "pipeline.store.warehouse.WarehouseBusy: another ..." -> the sentence, on one line
            message = re.sub(r"^[\w.]+(Error|Exception|Busy|Full)?: ", "", error.message.strip().splitlines()[0])
            return visible(message)
    return "see the run in the Dagster UI"



if __name__ == "__main__":  # `tlsrpt status` asks this in its own process (pipeline never imports Dagster)
    import sys

    print(last_run_line(Settings(data_dir=sys.argv[1])) or "")
