"""The Parquet export and the checkpoint it runs beside it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline.ingest import ingest
from pipeline.settings import Settings
from pipeline.store import parquet_export
from tests.fixtures.builders import gz, valid_report


class _Recording:
    """A connection that notes the statements run on it (its cursors are the real ones)."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con, self.statements = con, []

    def execute(self, sql: str, *args):
        self.statements.append(sql.strip().split()[0].lower())
        return self._con.execute(sql, *args)

    def cursor(self):
        return self._con.cursor()


def _warehouse_with_dirty_partitions(tmp_path: Path) -> Settings:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(3):
        (inbox / f"r{n}.json.gz").write_bytes(gz(valid_report(f"report-{n}")))
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    ingest([inbox], settings)
    con = duckdb.connect(str(settings.db_path))
    con.execute("insert or ignore into dirty_partitions select distinct 'reports', report_date::varchar from reports")
    con.close()
    return settings


@pytest.mark.parametrize("refused", [False, True], ids=["checkpoint beside the COPYs", "refused, then alone"])
def test_export_checkpoints_and_empties_the_dirty_list(refused: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    settings = _warehouse_with_dirty_partitions(tmp_path)
    if refused:
        monkeypatch.setattr(parquet_export, "_checkpoint", lambda cursor: cursor.close() or False)
    con = _Recording(duckdb.connect(str(settings.db_path)))
    try:
        assert parquet_export.export_dirty(con, settings.parquet_dir, checkpoint=True) == 1
        assert con.statements.count("checkpoint") == (1 if refused else 0)
        assert con.execute("select count(*) from dirty_partitions").fetchone()[0] == 0
        in_parquet = con.execute(
            f"select report_id from read_parquet('{settings.parquet_dir}/reports/*/*.parquet') order by 1").fetchall()
        assert in_parquet == [("report-0",), ("report-1",), ("report-2",)]
    finally:
        con._con.close()
