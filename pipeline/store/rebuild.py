"""`tlsrpt rebuild`'s storage side: the old lake set aside while the packs are replayed into a
new one, restored if the replay fails, removed when it succeeds.

The landing packs hold every report, delivery and raw object, so replaying them recreates the
core tables. They do not hold the posture checks (probes of DNS, HTTPS and SMTP, not reports):
those rows are carried over from the old lake, or from the DuckDB file of a version before the
lake (`warehouse.duckdb`, which a rebuild thus upgrades), before anything is replayed.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa

from pipeline.settings import Settings
from pipeline.store import lake
from pipeline.store.warehouse import (
    connect,
    in_transaction,
    set_aside_path,
    writer_lock,
)

PRE_LAKE_FILE = "warehouse.duckdb"  # the warehouse of versions before the lake


def lake_dir(settings: Settings) -> Path:
    return settings.data_dir / "lake"


def pre_lake_file(settings: Settings) -> Path:
    return settings.data_dir / PRE_LAKE_FILE


def is_shared(settings: Settings) -> bool:
    """A lake other machines may write too (TLSRPT_CATALOG or TLSRPT_DATA_PATH set elsewhere than
    the embedded default): it cannot be moved aside from here."""
    where = lake.location(settings)
    default_data = str(lake_dir(settings) / "data") + "/"
    return where.embedded_catalog != lake_dir(settings) / "catalog.sqlite" or where.data_path != default_data


@contextmanager
def old_lake_aside(settings: Settings) -> Iterator[None]:
    """Inside: an empty lake holding only the old posture checks. A rebuild killed inside leaves
    the old lake aside; the next rebuild starts again from it, the next ingest removes it.

    A shared lake is not this machine's to move: the replay goes into the lake the settings name,
    and recreating one means naming a new, empty catalog and data path and replaying every
    machine's packs into it (the writers' exactly-once rule keeps each report once, whichever
    machine replays it first). The posture checks then come from the next posture run."""
    if is_shared(settings):
        yield
        return
    here, aside = lake_dir(settings), set_aside_path(settings)
    with writer_lock(settings.data_dir):
        # This process's kept database of the lake (pipeline/store/kept_lakes.py) reads the
        # folder that moves now: the replay must attach the new lake, not the old one.
        lake.forget(settings)
        if aside.exists():  # a killed rebuild: what is in `here` is its partial replay
            shutil.rmtree(here, ignore_errors=True)
        elif here.exists():
            here.replace(aside)
        kept = _posture_rows(settings, aside)
        con = connect(settings)
        try:
            if kept is not None and kept.num_rows:
                in_transaction(con, lambda c: _insert(c, kept))
        finally:
            con.close()
    try:
        yield
    except BaseException:
        with writer_lock(settings.data_dir):
            if aside.exists():
                lake.forget(settings)  # the partial replay goes
                shutil.rmtree(here, ignore_errors=True)
                aside.replace(here)
        raise
    with writer_lock(settings.data_dir):
        shutil.rmtree(aside, ignore_errors=True)
        pre_lake_file(settings).unlink(missing_ok=True)
        Path(f"{pre_lake_file(settings)}.wal").unlink(missing_ok=True)


def _posture_rows(settings: Settings, aside: Path) -> pa.Table | None:
    """The posture checks of the lake set aside, else of a pre-lake DuckDB file, else None."""
    if (aside / "catalog.sqlite").exists():
        old = settings.model_copy(update={"catalog": f"sqlite:{aside / 'catalog.sqlite'}",
                                          "data_path": str(aside / "data")})
        con = lake.open_lake(old, read_only=True)
        lake.forget(old)  # read once; the folder is removed when the rebuild ends
    elif pre_lake_file(settings).exists():
        con = duckdb.connect(str(pre_lake_file(settings)), read_only=True)
    else:
        return None
    try:
        return con.execute("select * from posture_checks").to_arrow_table()
    except duckdb.CatalogException:  # made before the posture checks existed
        return None
    finally:
        con.close()


def _insert(con: duckdb.DuckDBPyConnection, rows: pa.Table) -> None:
    con.register("kept_rows", rows)
    con.execute("insert into posture_checks by name select * from kept_rows")
    con.unregister("kept_rows")
