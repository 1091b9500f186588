"""Analysts open the warehouse with the real DuckDB shell (PyPI duckdb-cli, same 1.5 line)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ingest_into

FIXTURES = Path(__file__).parents[1] / "fixtures" / "reports"
SHELL = Path(sys.executable).parent / "duckdb"


@pytest.mark.skipif(not SHELL.exists(), reason="duckdb-cli is not installed in this environment")
def test_shell_queries_core_tables_unqualified(tmp_path: Path):
    ingest_into(tmp_path, [FIXTURES])
    result = subprocess.run(
        [str(SHELL), "-csv", "-noheader", str(tmp_path / "warehouse.duckdb"), "-c",
         "select result_type, sum(failed_session_count) from failure_details group by all"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "certificate-expired,4"
    described = subprocess.run(
        [str(SHELL), "-csv", "-noheader", str(tmp_path / "warehouse.duckdb"), "-c",
         "select comment from duckdb_columns() where table_name = 'reports' and column_name = 'report_key'"],
        capture_output=True, text=True, timeout=60,
    )
    assert "sha256" in described.stdout


@pytest.mark.skipif(not SHELL.exists(), reason="duckdb-cli is not installed in this environment")
def test_shell_reads_a_lake_with_the_extensions_the_pipeline_installed(tmp_path: Path):
    """The shell is the same release as the Python package, so it loads the extension copies
    pipeline/store/extensions.py installed, by name and offline, and attaches the lake read-only."""
    import duckdb

    from pipeline.store import extensions

    con = duckdb.connect()
    extensions.load(con, ["ducklake"], tmp_path / "duckdb_extensions")
    con.execute(f"attach 'ducklake:{tmp_path}/catalog.ducklake' as lake (data_path '{tmp_path}/lake/')")
    con.execute("create table lake.failure_details as select 'certificate-expired' as result_type, 4 as failed_session_count")
    con.close()
    result = subprocess.run(
        [str(SHELL), "-csv", "-noheader", "-c",
         f"set extension_directory = '{tmp_path}/duckdb_extensions'; set autoinstall_known_extensions = false; "
         f"load ducklake; attach 'ducklake:{tmp_path}/catalog.ducklake' as lake (read_only); "
         "select result_type, sum(failed_session_count) from lake.failure_details group by all"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "certificate-expired,4"
