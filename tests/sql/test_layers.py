"""The SQL layers run in flow order: staging -> intermediate -> marts -> detect. A model reads
core and config tables and models of its own or an earlier layer, never a later one."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.transform.sql_models import LAYERS, SQL_DIR, load_models


def test_every_model_reads_only_its_own_or_earlier_layers():
    models = load_models()
    assert {m.schema for m in models.values()} == set(LAYERS)
    for model in models.values():
        for dep in model.deps:
            schema = dep.split(".")[0]
            if schema in ("main", "config"):
                continue
            assert LAYERS.index(schema) <= LAYERS.index(model.schema), f"{model.key} reads {dep}"


def test_detection_reads_the_marts_and_nothing_reads_detection():
    models = load_models()
    assert "marts.daily_domain_sessions" in models["detect.failure_rate_series"].deps
    readers_of_detect = {m.key for m in models.values() if any(d.startswith("detect.") for d in m.deps)}
    assert all(key.startswith("detect.") for key in readers_of_detect)


def test_a_model_reading_a_later_layer_is_refused(tmp_path: Path):
    for layer in LAYERS:
        (tmp_path / layer).mkdir()
        for path in (SQL_DIR / layer).glob("*.sql"):
            (tmp_path / layer / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "marts" / "backwards.sql").write_text(
        "-- grain: one row per problem\nselect problem_id from detect.problems\n", encoding="utf-8")
    with pytest.raises(ValueError, match="marts.backwards reads models of a later layer"):
        load_models(tmp_path)


def test_a_table_no_model_builds_any_more_is_dropped():
    import duckdb

    from pipeline.store.warehouse import ensure_schema
    from pipeline.transform.sql_models import build_all

    con = duckdb.connect()
    ensure_schema(con)
    build_all(con)
    # As an older version left it: detection's problems published as a mart.
    con.execute("create table marts.problems as select * from detect.problems")
    con.execute("insert into config.model_builds values ('marts.problems', 'old', 0, now())")
    con.execute("create table marts.my_own_notes (note varchar)")  # not the builder's: kept
    build_all(con)
    tables = {f"{s}.{t}" for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()}
    assert "marts.problems" not in tables and "detect.problems" in tables and "marts.my_own_notes" in tables
