"""The dashboard never blocks the pipeline and is never blocked by it: it reads the lake pinned
to the last passed build, so a materialization and dashboard queries run side by side."""

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
from pipeline.transform import sql_models
from pipeline.transform.sql_models import refresh_all
from tests.conftest import ingest_into


def test_materialization_while_the_app_queries(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TLSRPT_DATA_DIR", str(tmp_path))
    write_corpus(tmp_path / "first", domains=2, days=10, seed=1, formats=("files",))
    ingest_into(tmp_path, [tmp_path / "first" / "files"])
    refresh_all(Settings(data_dir=tmp_path))
    write_corpus(tmp_path / "inbox", domains=3, days=15, seed=2, formats=("files", "eml"))

    errors: list[BaseException] = []
    answers: list[int] = []
    done = threading.Event()
    answered = threading.Condition()
    held: list[int] = []  # answers given while the run held the warehouse open for writing

    # Counted by events, not time: the run stops inside its first model build (writer lock taken,
    # transaction open) until the app has answered three more times; an app blocked by the
    # writer never gets there, and the run's step fails.
    create = sql_models._create

    def create_once_the_app_answered(con, model):
        if not held:
            with answered:
                start = len(answers)
                if not answered.wait_for(lambda: len(answers) >= start + 3 or errors, timeout=120):
                    raise AssertionError("the app gave no answers while the pipeline was writing")
                held.append(len(answers) - start)
        return create(con, model)

    monkeypatch.setattr(sql_models, "_create", create_once_the_app_answered)

    def app_queries() -> None:
        while not done.is_set():
            try:
                snap = data.current_snapshot()
                data.run.clear()  # no cache: every loop really opens the snapshot
                options = data.choices(snap)
                filters = data.Filters((), options["first"], options["last"], None)
                sessions = data.kpis(filters, snap)["sessions"][0]
                with answered:
                    answers.append(sessions)
                    answered.notify_all()
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
    assert held and held[0] >= 3  # the app kept answering while the run wrote
    snap = data.current_snapshot()
    options = data.choices(snap)
    after = data.kpis(data.Filters((), options["first"], options["last"], None), snap)["sessions"][0]
    assert after > answers[0]  # and the new build's snapshot shows the new reports
