"""The config tables are written when what they would hold changes, not in every build step:
rewriting the ten of them costs ~0.5 s on a lake, and a Dagster run builds each model in a step
of its own (config.written_from keeps the fingerprint of what they were written from)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline.settings import Settings
from pipeline.store.warehouse import ensure_schema
from pipeline.transform import sql_models
from pipeline.transform.sql_models import (
    build_one,
    build_order,
    config_is_current,
    load_models,
    write_config,
)
from tests.conftest import ingest_into, query

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reports"
DAY = date(2026, 4, 15)


@pytest.fixture
def counted_writes(monkeypatch) -> list[int]:
    writes: list[int] = []
    real = sql_models.write_config

    def counting(*args, **kwargs):
        writes.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sql_models, "write_config", counting)
    return writes


def test_the_asset_steps_write_the_config_tables_once_per_change(tmp_path: Path, counted_writes: list[int]):
    settings = Settings(data_dir=tmp_path, today=DAY)
    ingest_into(tmp_path, [FIXTURES])
    models = load_models()
    steps = [models[key] for key in build_order(models)]
    assert sum(1 for model in steps if any(d.startswith("config.") for d in model.deps)) > 1
    for model in steps:
        build_one(settings, model)
    assert len(counted_writes) == 1
    assert query(tmp_path, "select count(*) from config.clock where today = ?", [DAY]) == [(1,)]
    for model in steps:  # nothing new
        build_one(settings, model)
    assert len(counted_writes) == 1
    next_day = settings.model_copy(update={"today": DAY + timedelta(days=1)})
    for model in steps:
        build_one(next_day, model)
    assert len(counted_writes) == 2
    assert query(tmp_path, "select count(*) from config.clock where today = ?", [DAY + timedelta(days=1)]) == [(1,)]


def test_the_config_tables_are_current_until_what_they_hold_would_change():
    con = duckdb.connect()
    ensure_schema(con)
    assert not config_is_current(con, {}, DAY)  # never written
    write_config(con, {}, DAY)
    assert config_is_current(con, {}, DAY)
    assert not config_is_current(con, {}, DAY + timedelta(days=1))
    assert not config_is_current(con, {"baseline_days": 14}, DAY)
    # A committed batch leaves them current: its new reporter names are added, not rewritten.
    con.execute("insert into main.ingest_batches values ('batch-1', now(), 1, 1, 0, 0)")
    assert config_is_current(con, {}, DAY)


def test_a_new_batch_adds_its_reporter_names_without_rewriting_the_config(tmp_path: Path, counted_writes: list[int]):
    settings = Settings(data_dir=tmp_path, today=DAY)
    ingest_into(tmp_path, [FIXTURES / "google_report.json"])
    sql_models.refresh_all(settings)
    ingest_into(tmp_path, [FIXTURES / "mailed_report.eml"])
    sql_models.refresh_all(settings)
    assert len(counted_writes) == 1
    names = "select distinct coalesce(contact_domain, lower(trim(organization_name))) from main.reports"
    assert len(query(tmp_path, names)) == 2  # the second batch brought a reporter name of its own
    assert sorted(query(tmp_path, "select name from config.reporter_domains")) == sorted(query(tmp_path, names))
    assert query(tmp_path, "select count(distinct reporter) from staging.reports") == [(2,)]
