"""Analysts open the warehouse with the real DuckDB shell (PyPI duckdb-cli, same 1.5 line)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ingest_into

FIXTURES = Path(__file__).parents[1] / "fixtures" / "reports"
SHELL = Path(sys.executable).parent / "duckdb"


# The README's command, run from the project folder (here: the folder holding `data`).
ATTACH = ("set extension_directory = 'data/duckdb_extensions'; load ducklake; load sqlite_scanner; "
          "attach 'ducklake:sqlite:data/lake/catalog.sqlite' as lake (read_only); use lake; ")


def shell(cwd: Path, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SHELL), "-csv", "-noheader", "-c", ATTACH + sql],
                          capture_output=True, text=True, timeout=60, cwd=cwd)


@pytest.mark.skipif(not SHELL.exists(), reason="duckdb-cli is not installed in this environment")
def test_shell_queries_core_tables_unqualified(tmp_path: Path):
    ingest_into(tmp_path / "data", [FIXTURES])
    result = shell(tmp_path, "select result_type, sum(failed_session_count) from failure_details group by all")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "certificate-expired,4"
    described = shell(tmp_path, "select comment from duckdb_columns() where database_name = 'lake'"
                                " and table_name = 'reports' and column_name = 'report_key'")
    assert "sha256" in described.stdout


@pytest.mark.timeout(300)
@pytest.mark.skipif(not SHELL.exists(), reason="duckdb-cli is not installed in this environment")
def test_shell_queries_the_lake_while_an_ingest_writes_it(tmp_path: Path):
    """The shell neither waits for a running ingest nor stops it: each query reads the newest
    committed snapshot, so the counts only grow, and the ingest completes."""
    from pipeline.generate import write_corpus

    ingest_into(tmp_path / "data", [FIXTURES])
    write_corpus(tmp_path / "corpus", domains=3, days=20, seed=5, formats=("files",))
    ingest = subprocess.Popen([sys.executable, "-m", "pipeline", "ingest", "--data-dir", str(tmp_path / "data"),
                               str(tmp_path / "corpus")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    counts, during = [], 0
    while ingest.poll() is None:
        result = shell(tmp_path, "select count(*) from deliveries")
        assert result.returncode == 0, result.stderr
        counts.append(int(result.stdout.strip()))
        during += ingest.poll() is None  # answered while the ingest still ran
    _, stderr = ingest.communicate()
    assert ingest.returncode == 0, stderr
    assert during > 0, "the ingest ended before the shell answered: the test proved nothing"
    assert counts == sorted(counts)


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
