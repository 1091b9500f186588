"""The `tlsrpt` command as a user meets it: one-line errors, summaries, status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipeline.store.warehouse import writer_lock

FIXTURES = Path(__file__).parents[1] / "fixtures" / "reports"


def tlsrpt(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def test_missing_path_is_one_line_error(tmp_path: Path):
    result = tlsrpt("ingest", "--data-dir", str(tmp_path / "d"), str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_data_dir_that_cannot_be_created_is_one_line_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = tlsrpt("ingest", "--data-dir", str(blocker / "data"), str(FIXTURES))
    assert result.returncode == 2
    assert "cannot write to data dir" in result.stderr
    assert "Traceback" not in result.stderr


def test_env_var_moves_everything_written(tmp_path: Path):
    data_dir = tmp_path / "elsewhere"
    result = tlsrpt("ingest", str(FIXTURES / "google_report.json"), env={"TLSRPT_DATA_DIR": str(data_dir)})
    assert result.returncode == 0, result.stderr
    assert "1 loaded" in result.stdout
    assert (data_dir / "lake" / "catalog.sqlite").exists()
    assert list((data_dir / "landing" / "packs").glob("*.pack"))


def test_ingest_summary_and_status_name_the_quarantine(tmp_path: Path):
    data_dir = tmp_path / "data"
    result = tlsrpt("ingest", "--data-dir", str(data_dir), str(FIXTURES))
    assert result.returncode == 0, result.stderr
    status = tlsrpt("status", "--data-dir", str(data_dir))
    assert status.returncode == 0, status.stderr
    assert "reports" in status.stdout and "deliveries" in status.stdout


def test_second_writer_is_refused_clearly(tmp_path: Path):
    data_dir = tmp_path / "data"
    with writer_lock(data_dir):
        result = tlsrpt("ingest", "--data-dir", str(data_dir), str(FIXTURES / "google_report.json"))
    assert result.returncode == 3
    assert "another tlsrpt run is writing" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_before_any_ingest_says_what_to_do(tmp_path: Path):
    result = tlsrpt("status", "--data-dir", str(tmp_path))
    assert result.returncode == 0
    assert "tlsrpt ingest" in result.stdout


def test_raw_returns_the_bytes_that_carried_a_report(tmp_path: Path):
    data_dir = tmp_path / "data"
    assert tlsrpt("ingest", "--data-dir", str(data_dir), str(FIXTURES)).returncode == 0
    from tests.conftest import query

    (key,) = query(data_dir, "select report_key from reports where organization_name = 'Microsoft Corporation'")[0]
    result = subprocess.run([sys.executable, "-m", "pipeline", "raw", "--data-dir", str(data_dir), key], capture_output=True)
    assert result.returncode == 0
    assert result.stdout == (FIXTURES / "mailed_report.eml").read_bytes()
    missing = tlsrpt("raw", "--data-dir", str(data_dir), "0" * 32)
    assert missing.returncode == 2 and "no report or raw input" in missing.stderr


def test_dashboard_moves_to_a_free_port_when_the_default_is_taken(tmp_path: Path):
    import socket

    from pipeline.cli import _port_is_free

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert not _port_is_free("127.0.0.1", port)
    assert _port_is_free("127.0.0.1", port)


def test_status_shows_hostile_file_names_and_problem_titles_as_text(tmp_path: Path):
    """Rich markup (`[/b]`) in a quarantined file's name crashed status for good; escape
    sequences in names and titles reached the terminal."""
    from tests.fixtures.hostile import RICH_MARKUP, TERMINAL_ESCAPES
    from tests.integration.test_alerts import problem_row, publish_problems

    data_dir, inbox = tmp_path / "data", tmp_path / "in"
    (inbox / "bad[").mkdir(parents=True)  # the path reads .../bad[/b]...: a closing tag without an opening one
    (inbox / "bad[" / "b]\x1b[31mred.json").write_bytes(b"not a report")
    assert tlsrpt("ingest", "--data-dir", str(data_dir), str(inbox)).returncode == 0
    row = problem_row("p-term")
    row["title"] = f"Expired certificate on {TERMINAL_ESCAPES} {RICH_MARKUP}"
    publish_problems(data_dir, [row])
    result = tlsrpt("status", "--data-dir", str(data_dir))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "bad[/b]\\x1b[31mred" in result.stdout
    assert "\\x1b[2J" in result.stdout and "[/b][link=" in result.stdout


def test_load_takes_the_drop_folders_and_no_models_leaves_the_build_alone(tmp_path: Path):
    """`tlsrpt load --no-models` (an intake machine of a shared lake): what waits in the inbox and
    the HTTPS spool is loaded with its channel and emptied out, and no model build is recorded."""
    import shutil

    from pipeline.settings import Settings
    from pipeline.store import lake

    settings = Settings(data_dir=tmp_path / "data")
    for folder, name in ((settings.inbox_dir, "google_report.json"), (settings.spool_dir, "mailed_report.eml")):
        folder.mkdir(parents=True)
        shutil.copyfile(FIXTURES / name, folder / name)
    result = tlsrpt("load", "--no-models", "--data-dir", str(settings.data_dir))
    assert result.returncode == 0, result.stderr
    assert "2 loaded" in result.stdout and "SQL models not rebuilt" in result.stdout
    assert not any(settings.inbox_dir.iterdir()) and not any(settings.spool_dir.iterdir())
    con = lake.open_lake(settings, read_only=True)
    try:
        assert sorted(con.execute("select channel from deliveries").fetchall()) == [("file",), ("https",)]
        assert con.execute("select count(*) from builds").fetchone() == (0,)
    finally:
        con.close()
    again = tlsrpt("load", "--data-dir", str(settings.data_dir))  # and with the models
    assert again.returncode == 0, again.stderr
    assert "SQL models not rebuilt" not in again.stdout


def test_the_cli_starts_without_the_posture_probes():
    """Every command pays for what the CLI imports at start (`tlsrpt ingest` of nothing new ~1.5 s
    in all): the posture probes (httpx, certificates, STARTTLS; ~0.18 s) load with `check` and
    `setup` only, which still work."""
    probe = "import sys, pipeline.cli; print(sorted(m for m in ('pipeline.posture.run', 'httpx') if m in sys.modules))"
    started = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "[]"
    for command in ("check", "setup"):
        shown = tlsrpt(command, "--help")
        assert shown.returncode == 0, shown.stderr
    refused = tlsrpt("setup", "not a domain", "--rua", "mailto:tlsrpt@example.org")
    assert refused.returncode == 2 and "not a domain name" in refused.stderr
