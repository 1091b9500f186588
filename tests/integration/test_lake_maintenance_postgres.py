"""Lake maintenance with the catalog in a real PostgreSQL (the scale-out mode): the same merge,
expiry and cleanup as with the embedded catalog, the same answers after."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pipeline.settings import Settings
from pipeline.store import lake, maintenance
from tests.unit.test_lake_maintenance import answers, files_on_disk, small_batches


def test_merge_expire_and_cleanup_on_a_postgresql_catalog(postgres, tmp_path: Path):
    settings = Settings(data_dir=tmp_path, catalog=postgres.create_database("maintenance"),
                        data_path=str(tmp_path / "lake" / "data"))
    snapshots = small_batches(settings, batches=20)
    kept = snapshots[10]
    newest_before, kept_before = answers(settings), answers(settings, kept)

    con = lake.open_lake(settings)
    within_grace = maintenance.maintain(con, retention=timedelta(days=1), keep_snapshot=kept)
    assert (within_grace.files_before, within_grace.files_after, within_grace.files_deleted) == (40, 2, 0)
    done = maintenance.maintain(con, retention=timedelta(0), keep_snapshot=kept, cleanup_grace=timedelta(0))
    con.close()

    assert done.files_deleted == 40 and done.snapshots_expired > 0
    assert len(files_on_disk(settings)) == 2
    assert answers(settings) == newest_before and answers(settings, kept) == kept_before
