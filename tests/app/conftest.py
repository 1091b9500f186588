"""Warehouses the app tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.settings import Settings
from pipeline.transform.sql_models import refresh_all
from tests.conftest import ingest_into


@pytest.fixture(scope="session")
def scenarios(tmp_path_factory) -> Path:
    """The labelled background (12 domains, DANE reports under two domains' MX hosts) with an
    expired certificate (open) and an MTA-STS host down (resolved)."""
    from pipeline.generate import write_corpus

    root = tmp_path_factory.mktemp("scenarios")
    write_corpus(root / "corpus", seed=1, scenarios=("cert-expiry", "sts-host-down"), formats=("files",))
    ingest_into(root / "data", [root / "corpus" / "files"])
    refresh_all(Settings(data_dir=root / "data"))
    return root / "data"
