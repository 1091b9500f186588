"""The daily lake maintenance (pipeline/store/maintenance.py) as a job of its own: it loads
nothing new, so it is no asset of the data and never part of ingest_job, and a long compaction
never holds up loading reports."""

import dagster as dg

from assets.resources import WarehouseResource
from pipeline.store import lake, maintenance


# The lake is maintained under the writer lock: an ingest run that holds it makes this step fail
# at once (WarehouseBusy), and it is tried again ten minutes later, a few times.
@dg.op(out=dg.Out(dg.Nothing), retry_policy=dg.RetryPolicy(max_retries=3, delay=600))
def lake_maintenance(context: dg.OpExecutionContext, warehouse: WarehouseResource):
    """Merge small data files, expire snapshots past TLSRPT_SNAPSHOT_RETENTION_DAYS (never the one
    the dashboard reads), delete the files no snapshot reads and those of commits that never happened."""
    settings = warehouse.settings()
    if not lake.exists(settings):
        context.log.info("no lake yet: nothing to maintain")
        return
    done = maintenance.run(settings)
    context.log.info(done.described)
    yield dg.Output(None, metadata={
        "files_before": done.files_before, "files_after": done.files_after, "rows_flushed": done.rows_flushed,
        "snapshots_expired": done.snapshots_expired, "files_deleted": done.files_deleted,
        "bytes_freed": done.bytes_freed if done.bytes_freed is not None else "unknown (remote data path)",
        "files_waiting": done.files_waiting, "orphans_deleted": done.orphans_deleted, "seconds": round(done.seconds, 2),
    })


@dg.job(description="merge the lake's small files, expire old snapshots, delete unread files")
def maintenance_job():
    lake_maintenance()
