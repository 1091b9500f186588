"""The posture asset: probes the watched domains into posture_checks, and is off when told so;
the ingest job never runs it."""

from __future__ import annotations

import dagster as dg

import assets.posture as posture_assets
from assets.automation import ingest_job
from assets.definitions import defs
from assets.resources import WarehouseResource
from pipeline.posture.settings import PostureSettings
from tests.conftest import open_warehouse


def materialize(tmp_path):
    return dg.materialize([posture_assets.posture_checks], resources={"warehouse": WarehouseResource(data_dir=str(tmp_path))})


def test_asset_checks_the_configured_domains(probe_config, tmp_path, monkeypatch):
    class Loopback(PostureSettings):
        def probe_config(self, **overrides):
            return probe_config()

    monkeypatch.setenv("TLSRPT_POSTURE_DOMAINS", "good.example.test,multi.example.test")
    monkeypatch.setattr(posture_assets, "PostureSettings", Loopback)
    result = materialize(tmp_path)
    assert result.success
    con = open_warehouse(tmp_path)
    rows = dict(con.execute("select domain, count(distinct check_name) from posture_checks group by 1").fetchall())
    assert rows == {"good.example.test": 8, "multi.example.test": 8}


def test_off_switch_probes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("TLSRPT_POSTURE", "off")
    monkeypatch.setenv("TLSRPT_POSTURE_DOMAINS", "good.example.test")
    result = materialize(tmp_path)
    assert result.success
    assert "skipped" in result.asset_materializations_for_node("posture_checks")[0].metadata
    assert not (tmp_path / "lake").exists()


def test_ingest_job_leaves_the_probes_out():
    job = defs.resolve_job_def(ingest_job.name)
    assert dg.AssetKey("posture_checks") not in job.asset_layer.executable_asset_keys
    assert defs.resolve_job_def("posture_job").asset_layer.executable_asset_keys >= {
        dg.AssetKey("posture_checks"), dg.AssetKey(["posture", "enforce_readiness"])}
