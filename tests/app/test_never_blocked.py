"""The dashboard never blocks the pipeline and is never blocked by it (STACK.md 5): it reads
published snapshots, so a materialization and dashboard queries run side by side."""

from __future__ import annotations

import threading
from pathlib import Path

import dagster as dg

from app import data
from assets.checks import core_checks, mart_checks
from assets.ingest import INBOX, ingest_inbox
from assets.resources import WarehouseResource
from assets.warehouse import model_assets
from pipeline.generate import write_corpus
from pipeline.settings import Settings
from pipeline.store.snapshot import publish
from pipeline.transform.sql_models import refresh_all
from tests.conftest import ingest_into


def test_materialization_while_the_app_queries(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TLSRPT_DATA_DIR", str(tmp_path))
    write_corpus(tmp_path / "first", domains=2, days=10, seed=1, formats=("files",))
    ingest_into(tmp_path, [tmp_path / "first" / "files"])
    refresh_all(Settings(data_dir=tmp_path))
    publish(Settings(data_dir=tmp_path))
    write_corpus(tmp_path / "inbox", domains=3, days=15, seed=2, formats=("files", "eml"))

    errors: list[BaseException] = []
    answers: list[int] = []
    done = threading.Event()

    def app_queries() -> None:
        while not done.is_set():
            try:
                snap = data.current_snapshot()
                data.run.clear()  # no cache: every loop really opens the snapshot
                options = data.choices(snap)
                filters = data.Filters((), options["first"], options["last"], None)
                answers.append(data.kpis(filters, snap)["sessions"][0])
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)
                return

    reader = threading.Thread(target=app_queries)
    reader.start()
    try:
        result = dg.materialize(
            [INBOX, ingest_inbox, *model_assets, *core_checks, *mart_checks],
            resources={"warehouse": WarehouseResource(data_dir=str(tmp_path), workers=1)},
        )
    finally:
        done.set()
        reader.join(timeout=60)
    assert result.success
    assert not errors, errors
    assert len(answers) >= 3  # the app kept answering during the run
    snap = data.current_snapshot()
    options = data.choices(snap)
    after = data.kpis(data.Filters((), options["first"], options["last"], None), snap)["sessions"][0]
    assert after > answers[0]  # and the new snapshot shows the new reports
