"""A model that fails on one domain's data costs only itself and what reads it (issue 15, item 2):
every other model is rebuilt and committed, the failed one keeps its last table, the failure is
recorded (config.model_failures, `tlsrpt status`, the Dagster check `every_model_built`), and the
next build that works clears it. Never a frozen warehouse."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.settings import Settings
from pipeline.store.warehouse import connect
from pipeline.transform.sql_models import (
    Model,
    ModelsFailed,
    build_all,
    load_models,
    model_failures,
)
from tests.conftest import ingest_into

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reports"

# Fails only when some domain's name does not read as a number: one domain's data, not its SQL.
FRAGILE = Model("marts", "fragile_domains", "select policy_domain::integer as n from staging.policies",
                "one row per policy", frozenset({"staging.policies"}))
READS_FRAGILE = Model("detect", "reads_fragile", "select count(*) as n from marts.fragile_domains",
                      "one row", frozenset({"marts.fragile_domains"}))


@pytest.fixture
def warehouse(tmp_path: Path):
    data_dir = tmp_path / "data"
    ingest_into(data_dir, [FIXTURES])
    con = connect(Settings(data_dir=data_dir))
    yield data_dir, con
    con.close()


def with_fragile(sql: str | None = None) -> dict[str, Model]:
    models = dict(load_models())
    fragile = FRAGILE if sql is None else replace(FRAGILE, sql=sql)
    models[fragile.key] = fragile
    models[READS_FRAGILE.key] = READS_FRAGILE
    return models


def test_one_failing_model_costs_only_itself_and_its_readers(warehouse):
    data_dir, con = warehouse
    models = with_fragile()
    with pytest.raises(ModelsFailed) as failed:
        build_all(con, models)
    assert list(failed.value.failures) == ["marts.fragile_domains"]
    assert failed.value.kept == ["detect.reads_fragile"]
    assert "Conversion Error" in failed.value.failures["marts.fragile_domains"]
    # Everything else was rebuilt and committed: the marts and the problems are there.
    tables = {f"{s}.{t}" for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()}
    assert {"marts.daily_outcomes", "detect.problems", "posture.domain_posture"} <= tables
    assert "marts.fragile_domains" not in tables and "detect.reads_fragile" not in tables
    assert con.execute("select count(*) from marts.daily_outcomes").fetchone()[0] > 0
    assert model_failures(con) == {"marts.fragile_domains": failed.value.failures["marts.fragile_domains"]}


def test_a_failed_model_keeps_its_last_table_and_a_fixed_one_clears_the_failure(warehouse):
    data_dir, con = warehouse
    build_all(con, with_fragile("select 1 as n from staging.policies"))  # once it worked
    before = con.execute("select count(*) from marts.fragile_domains").fetchone()[0]
    with pytest.raises(ModelsFailed):
        build_all(con, with_fragile())
    assert con.execute("select count(*) from marts.fragile_domains").fetchone()[0] == before  # its last table
    assert con.execute("select n from detect.reads_fragile").fetchone()[0] == before
    assert list(model_failures(con)) == ["marts.fragile_domains"]
    build_all(con, with_fragile("select 2 as n from staging.policies"))
    assert model_failures(con) == {}
    assert con.execute("select max(n) from marts.fragile_domains").fetchone()[0] == 2


def test_status_names_the_failed_model(warehouse):
    data_dir, con = warehouse
    with pytest.raises(ModelsFailed):
        build_all(con, with_fragile())
    con.close()
    result = subprocess.run([sys.executable, "-m", "pipeline", "status", "--data-dir", str(data_dir)],
                            capture_output=True, text=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "SQL model marts.fragile_domains failed to build: sql/marts/fragile_domains.sql: Conversion Error" in result.stdout
