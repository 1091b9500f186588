"""Settings are one validated object: a wrong environment value stops every command at start with
one line naming the variable (exit 2), never a traceback and never a silent fallback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.settings import VARIABLES, Settings, SettingsError
from tests.conftest import ROOT
from tests.unit.test_cli import tlsrpt

BAD_VALUES = [
    # (variable, value, words the error must contain)
    ("TLSRPT_DKIM_POLICY", "required", ["record", "require"]),
    ("TLSRPT_WORKERS", "abc", ["integer"]),
    ("TLSRPT_WORKERS", "0", ["greater than or equal to 1"]),
    ("TLSRPT_BATCH_PARTS", "-5", ["greater than or equal to 1"]),
    ("TLSRPT_DNS_SERVER", "resolver.example", ["ip[:port]"]),
    ("TLSRPT_DNS_SERVER", "127.0.0.1:99999", ["ip[:port]"]),
    ("TLSRPT_IMAP_PORT", "imaps", ["integer"]),
    ("TLSRPT_IMAP_SECURITY", "ssl", ["tls", "starttls"]),
    ("TLSRPT_IMAP_READ_ONLY", "maybe", ["boolean"]),
    ("TLSRPT_SNAPSHOT_RETENTION_DAYS", "0", ["greater than or equal to 1"]),
    ("TLSRPT_SNAPSHOT_RETENTION_DAYS", "a week", ["integer"]),
    ("TLSRPT_S3_ENDPOINT", "https://s3.example.net", ["host[:port]", "TLSRPT_S3_USE_SSL"]),
    ("TLSRPT_S3_USE_SSL", "maybe", ["boolean"]),
    ("TLSRPT_S3_URL_STYLE", "virtual", ["path", "vhost"]),
]


@pytest.mark.parametrize(("variable", "value", "words"), BAD_VALUES, ids=[f"{v}={x}" for v, x, _ in BAD_VALUES])
def test_a_bad_environment_value_is_one_line_naming_the_variable(variable, value, words, monkeypatch):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        Settings()
    message = str(caught.value)
    assert "\n" not in message and variable in message and repr(value) in message
    assert all(word in message for word in words), message


@pytest.mark.parametrize(("value", "words"), [
    ("mysql://db.example.net/dagster", ["postgresql://user@host[:port]/database"]),
    ("postgresql://dagster@db.example.net", ["postgresql://user@host[:port]/database"]),
    ("postgresql://dagster@db.example.net:99999/dagster", ["port from 1 to 65535"]),
    ("postgresql://dagster:hunter2@db.example.net/dagster", ["TLSRPT_DAGSTER_POSTGRES_PASSWORD"]),
])
def test_a_bad_dagster_postgres_url_is_one_line_that_never_repeats_it(value, words, monkeypatch):
    """The URL may carry a password by mistake, so the error names the variable but not the value."""
    monkeypatch.setenv("TLSRPT_DAGSTER_POSTGRES", value)
    with pytest.raises(SettingsError) as caught:
        Settings()
    message = str(caught.value)
    assert "\n" not in message and "TLSRPT_DAGSTER_POSTGRES=" in message and value not in message
    assert all(word in message for word in words), message


def test_a_bad_value_given_in_code_names_the_field():
    with pytest.raises(SettingsError, match="dkim_policy"):
        Settings(dkim_policy="requir")


@pytest.mark.parametrize("command", [["status"], ["generate", "out"], ["ingest", "nothing-here"]])
def test_every_command_stops_at_start_with_exit_2(command: list[str], tmp_path: Path):
    result = tlsrpt(*command, env={"TLSRPT_DATA_DIR": str(tmp_path / "data"), "TLSRPT_DKIM_POLICY": "required"})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TLSRPT_DKIM_POLICY" in lines[0] and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_workers_abc_is_no_traceback(tmp_path: Path):
    result = tlsrpt("status", env={"TLSRPT_DATA_DIR": str(tmp_path), "TLSRPT_WORKERS": "abc"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "TLSRPT_WORKERS" in result.stderr


@pytest.mark.parametrize(("variable", "value"), [("TLSRPT_POSTURE", "of"), ("TLSRPT_POSTURE_MAX_DOMAINS", "many")])
def test_a_bad_posture_value_stops_every_command_too(variable: str, value: str, tmp_path: Path):
    """The posture probes' settings are checked at start like the rest: a typo of `off` must not
    quietly leave the network probes on."""
    result = tlsrpt("status", env={"TLSRPT_DATA_DIR": str(tmp_path), variable: value})
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert variable in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_good_values_arrive_typed(monkeypatch, tmp_path: Path):
    for variable, value in {"TLSRPT_DATA_DIR": str(tmp_path), "TLSRPT_WORKERS": "3", "TLSRPT_BATCH_PARTS": "150",
                            "TLSRPT_DKIM_POLICY": "require", "TLSRPT_DNS_SERVER": "127.0.0.1:5353",
                            "TLSRPT_IMAP_HOST": "imap.example", "TLSRPT_IMAP_READ_ONLY": "yes",
                            "TLSRPT_IMAP_PORT": "143", "TLSRPT_IMAP_SECURITY": "starttls"}.items():
        monkeypatch.setenv(variable, value)
    settings = Settings()
    assert (settings.data_dir, settings.workers, settings.batch_parts, settings.dkim_policy) == (tmp_path, 3, 150, "require")
    assert (settings.imap.host, settings.imap.port, settings.imap.read_only, settings.imap.security) == (
        "imap.example", 143, True, "starttls")
    assert Settings(workers=1).workers == 1  # what the caller passes wins over the environment


def test_s3_settings_arrive_typed_and_the_secrets_stay_out_of_repr(monkeypatch):
    for variable, value in {"TLSRPT_S3_ENDPOINT": "127.0.0.1:8080", "TLSRPT_S3_KEY_ID": "acct:user",
                            "TLSRPT_S3_SECRET": "s3-secret-value", "TLSRPT_S3_USE_SSL": "false",
                            "TLSRPT_S3_URL_STYLE": "path", "TLSRPT_DAGSTER_POSTGRES_PASSWORD": "pg-secret-value"}.items():
        monkeypatch.setenv(variable, value)
    settings = Settings()
    assert (settings.s3_endpoint, settings.s3_key_id, settings.s3_use_ssl, settings.s3_url_style) == (
        "127.0.0.1:8080", "acct:user", False, "path")
    assert "s3-secret-value" not in repr(settings) and "pg-secret-value" not in repr(settings)


def test_the_environment_is_read_in_one_place():
    """Every TLSRPT_* value goes through pipeline/settings.py: no other module reads os.environ."""
    reads = re.compile(r"os\.environ\.get|os\.getenv|os\.environ\[[^\]]+\](?!\s*=)|typer\.Option\([^)]*envvar")
    offenders = [str(path.relative_to(ROOT)) for folder in ("pipeline", "assets", "app")
                 for path in sorted((ROOT / folder).rglob("*.py"))
                 if path.name != "settings.py" and reads.search(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_env_example_lists_every_variable():
    names = set(VARIABLES.values()) | set(re.findall(r"\b(TLSRPT_[A-Z_]*[A-Z])\b", (ROOT / "scripts" / "demo.sh").read_text()))
    listed = set(re.findall(r"^#?\s*(TLSRPT_[A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert names and names <= listed, sorted(names - listed)


@pytest.mark.parametrize("command", [["ingest", str(ROOT / "tests" / "fixtures" / "reports")], ["run"], ["rebuild"]])
def test_a_bad_detection_config_stops_a_loading_command_before_it_loads(command: list[str], tmp_path: Path):
    (tmp_path / "detection.toml").write_text('[thresholds]\nz_threshold = "high"\n')
    result = tlsrpt(*command, "--data-dir", str(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "z_threshold" in result.stderr
    assert not (tmp_path / "lake").exists()
