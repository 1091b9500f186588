"""The Dagster code location loads, and its graph materializes on a temp data dir."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from assets.automation import inbox_sensor
from assets.checks import core_checks
from assets.ingest import INBOX, ingest_inbox
from assets.resources import WarehouseResource
from tests.conftest import open_warehouse, query

FIXTURES = Path(__file__).parent / "fixtures" / "reports"


def test_definitions_load_with_lineage_inbox_landing_core():
    from assets.definitions import defs

    defs.resolve_all_job_defs()
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"inbox", "landing", "reports", "policies", "failure_details", "deliveries"} <= keys
    assert {k.to_user_string() for k in graph.get(dg.AssetKey("landing")).parent_keys} == {"inbox", "imap_mailbox"}
    assert {k.to_user_string() for k in graph.get(dg.AssetKey("reports")).parent_keys} == {"landing"}


def _fill_inbox(data_dir: Path) -> None:
    inbox = data_dir / "inbox"
    inbox.mkdir(parents=True)
    for name in ("google_report.json", "mailed_report.eml"):
        shutil.copy(FIXTURES / name, inbox / name)


def test_materialize_lands_loads_checks_and_empties_the_inbox(tmp_path: Path):
    _fill_inbox(tmp_path)
    resource = WarehouseResource(data_dir=str(tmp_path), workers=1)
    result = dg.materialize([INBOX, ingest_inbox, *core_checks], resources={"warehouse": resource})
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    assert len(result.get_asset_check_evaluations()) == len(core_checks)
    assert query(tmp_path, "select count(*) from reports") == [(2,)]
    assert not [p for p in (tmp_path / "inbox").rglob("*") if p.is_file()]
    assert len([p for p in (tmp_path / "processed").rglob("*") if p.is_file()]) == 2
    # A second run with an empty inbox is a no-op that still succeeds.
    again = dg.materialize([INBOX, ingest_inbox, *core_checks], resources={"warehouse": resource})
    assert again.success
    assert query(tmp_path, "select count(*) from deliveries") == [(2,)]


def test_sensor_requests_a_run_once_per_new_inbox_state(tmp_path: Path):
    resource = WarehouseResource(data_dir=str(tmp_path), workers=1)
    instance = dg.DagsterInstance.ephemeral()  # the sensor looks up the run it requested
    context = dg.build_sensor_context(instance=instance, cursor=None, resources={"warehouse": resource})
    assert isinstance(inbox_sensor(context), dg.SkipReason)
    _fill_inbox(tmp_path)
    request = inbox_sensor(context)
    assert isinstance(request, dg.RunRequest)
    context = dg.build_sensor_context(instance=instance, cursor=context.cursor, resources={"warehouse": resource})
    assert isinstance(inbox_sensor(context), dg.SkipReason)


def test_full_graph_checks_pass_and_a_broken_row_is_named(tmp_path: Path):

    from assets.checks import mart_checks
    from assets.warehouse import model_assets

    _fill_inbox(tmp_path)
    resource = WarehouseResource(data_dir=str(tmp_path), workers=1)
    result = dg.materialize([INBOX, ingest_inbox, *model_assets, *core_checks, *mart_checks], resources={"warehouse": resource})
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == len(core_checks) + len(mart_checks)
    assert all(e.passed for e in evaluations)
    # Break one row behind the mart's back: the reconciliation must fail and name it.
    con = open_warehouse(tmp_path, read_only=False)
    con.execute("update failure_details set failed_session_count = failed_session_count + 7")
    con.close()
    assert "fixture.test" in _failed_check(mart_checks, "every_detailed_failure_is_counted", resource)
    # A mart that sums the same failures twice (as By result once did) disagrees with the others.
    con = open_warehouse(tmp_path, read_only=False)
    con.execute("insert into marts.sources_by_host_daily select * replace (receiving_ip || '-copy' as receiving_ip)"
                " from marts.sources_by_host_daily")
    con.close()
    assert "fixture.test" in _failed_check(mart_checks, "failed_sessions_counted_once_agree_across_marts", resource)


def _failed_check(checks, name: str, resource: WarehouseResource) -> str:
    """Run one check alone (the tables as they are now) and return its failure description."""
    check = next(c for c in checks if list(c.check_specs)[0].key.name == name)
    rerun = dg.materialize([check], resources={"warehouse": resource}, selection=dg.AssetSelection.checks(check))
    (evaluation,) = rerun.get_asset_check_evaluations()
    assert not evaluation.passed
    return evaluation.description


def test_the_ingest_asset_empties_the_https_spool_too(tmp_path: Path):
    spool = tmp_path / "spool" / "https"
    spool.mkdir(parents=True)
    shutil.copy(FIXTURES / "google_report.json", spool / "posted.report")
    resource = WarehouseResource(data_dir=str(tmp_path), workers=1)
    assert dg.materialize([INBOX, ingest_inbox], resources={"warehouse": resource}).success
    assert query(tmp_path, "select channel from reports") == [("https",)]
    assert not list(spool.iterdir())


def test_a_failing_model_costs_only_itself_and_one_model_builds_alone(tmp_path: Path, monkeypatch):
    # All models are one step (one transaction); a model that fails is not the run's failure:
    # it keeps its last table, says why in its materialization, every other model is built and
    # the check every_model_built names it. Asked for alone, a model is built alone.
    from dataclasses import replace

    from assets.warehouse import every_model_built, model_assets
    from pipeline.transform import sql_models

    real = sql_models.load_models

    def with_a_broken_mart(*args, **kwargs):
        models = dict(real(*args, **kwargs))
        mart = models["marts.daily_outcomes"]
        models[mart.key] = replace(mart, sql=f"select *, 'x'::integer as broken from ({mart.sql}\n)")
        return models

    monkeypatch.setattr(sql_models, "load_models", with_a_broken_mart)
    _fill_inbox(tmp_path)
    resource = WarehouseResource(data_dir=str(tmp_path), workers=1)
    result = dg.materialize([INBOX, ingest_inbox, *model_assets, every_model_built], resources={"warehouse": resource})
    assert result.success
    metadata = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert "Conversion Error" in metadata["marts/daily_outcomes"]["failed"].value
    assert metadata["marts/daily_domain_sessions"]["rows"].value > 0
    assert metadata["detect/problems"]["rows"].value >= 0
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed and "marts.daily_outcomes" in check.metadata
    monkeypatch.undo()  # the model fixed
    alone = dg.materialize(model_assets, resources={"warehouse": resource},
                           selection=[dg.AssetKey(["marts", "daily_outcomes"])])
    assert [e.asset_key.to_user_string() for e in alone.get_asset_materialization_events()] == ["marts/daily_outcomes"]
    assert query(tmp_path, "select count(*) > 0 from marts.daily_outcomes") == [(True,)]
    assert query(tmp_path, "select count(*) from config.model_failures") == [(0,)]
