"""Where everything is written, and how hard to work. One validated object, passed everywhere.

Every value comes from what the caller passes, else its `TLSRPT_*` environment variable (the
only place that reads the environment), else a default. A wrong value stops at start with one
line naming the variable (`SettingsError`), never a silent fallback: `TLSRPT_DKIM_POLICY=required`
must not quietly mean `record`. `.env.example` lists every name.

The data dir comes from `--data-dir`, else `TLSRPT_DATA_DIR`, else `./data`: everything the tool
writes (inbox, landing zone, Parquet, DuckDB file, Dagster home) lives below it.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import date
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

PREFIX = "TLSRPT_"


class SettingsError(ValueError):
    """A setting that cannot be used; the message is one line naming the variable or field."""


def secret(variable: str) -> str:
    """A secret from the environment variable a config file names (webhook secrets, passwords)."""
    return os.environ.get(variable, "")


class ImapSettings(BaseModel):
    """The mailbox `tlsrpt fetch-imap` and the Dagster asset read (TLSRPT_IMAP_*)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = ""  # empty: no IMAP intake
    port: int | None = Field(None, ge=1, le=65535)  # None: 993 for tls, 143 for starttls
    security: Literal["tls", "starttls"] = "tls"
    user: str = ""
    password: str = Field("", repr=False)
    folder: str = "INBOX"
    read_only: bool = False
    ca_file: Path | None = None


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Path("data")
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    # Report payloads per transaction and pack file; small values only make sense in tests.
    # 20,000: each commit has a fixed cost (WAL flush, pack fsync); at 5,000 those were a fifth
    # of the committing process's time at 100k reports.
    batch_parts: int = Field(20_000, ge=1)
    # DNS server for DKIM key lookups ("ip[:port]"); empty: the system resolver.
    dns_server: str = ""
    # record: keep every mailed report and mark its DKIM verdict; require: quarantine mailed
    # reports whose signature does not verify (RFC 8460 section 3 says to ignore them).
    dkim_policy: Literal["record", "require"] = "record"
    alerts_config: Path | None = None  # the alerts channels (docs/alerts.md); None: <data>/alerts.toml
    detection_config: Path | None = None  # detection thresholds; None: <data>/detection.toml
    # The day intake freshness is judged against (docs/detection.md); None: today's UTC date.
    # Set only to replay a past day (tests, demos): the models must not read the clock themselves.
    today: date | None = None
    # The warehouse is a DuckLake (pipeline/store/lake.py). Empty: embedded, catalog
    # <data>/lake/catalog.sqlite and data files <data>/lake/data/. Scale-out: a PostgreSQL
    # catalog (`postgresql://user:pw@host:5432/db` or libpq `host=… dbname=…`) and a shared
    # data path that every machine sees at the same place.
    catalog: str = Field("", repr=False)  # may hold a password
    data_path: str = ""
    # Days a lake snapshot stays readable (time travel, `tlsrpt sql --snapshot`) before the daily
    # maintenance expires it and deletes the data files only it still used. The snapshot the
    # dashboard is pinned to is kept whatever its age. At least a day: a reader must never lose
    # the snapshot it attached minutes ago.
    snapshot_retention_days: int = Field(7, ge=1)
    # An `s3://bucket/prefix/` data path: where the store is and who we are there. Empty
    # endpoint: AWS S3 itself. URL style: None means `path` with an endpoint (Swift, Ceph and
    # MinIO answer path-style requests) and `vhost` on AWS.
    s3_endpoint: str = ""  # host[:port]
    s3_key_id: str = ""
    s3_secret: str = Field("", repr=False)
    s3_region: str = ""
    s3_use_ssl: bool = True
    s3_url_style: Literal["path", "vhost"] | None = None
    # Dagster's runs, events and schedules in PostgreSQL, shared by every machine
    # (`postgresql://user@host:5432/dagster`); empty: SQLite files under <data>/dagster. The URL
    # is written into dagster.yaml, so its password comes separately and stays in the environment.
    dagster_postgres: str = Field("", repr=False)  # a password put here by mistake is never shown
    dagster_postgres_password: str = Field("", repr=False)
    imap: ImapSettings = ImapSettings()

    def __init__(self, **given: Any) -> None:
        values, from_env = _with_environment(given)
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(_one_line(exc, from_env)) from None

    @field_validator("data_dir", "alerts_config", "detection_config")
    @classmethod
    def _absolute(cls, path: Path | None) -> Path | None:
        return path.absolute() if path is not None else None

    @field_validator("s3_endpoint")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        if "://" in value or "/" in value:
            raise ValueError("must be host[:port], without a scheme (TLSRPT_S3_USE_SSL chooses https or http)")
        return value

    @field_validator("dagster_postgres")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        if value:
            parsed = urlsplit(value)
            if parsed.scheme not in ("postgresql", "postgres") or not parsed.hostname or not parsed.path.strip("/"):
                raise ValueError("must be a URL postgresql://user@host[:port]/database")
            if parsed.password is not None:
                raise ValueError("must not hold the password (it is written into dagster.yaml): "
                                 "set TLSRPT_DAGSTER_POSTGRES_PASSWORD instead")
            try:
                parsed.port
            except ValueError:
                raise ValueError("must be a URL postgresql://user@host[:port]/database, with a port from 1 to 65535") from None
        return value

    @field_validator("dns_server")
    @classmethod
    def _ip_and_port(cls, value: str) -> str:
        host, _, port = value.partition(":")
        if value:
            try:
                ipaddress.IPv4Address(host)
            except ValueError:
                raise ValueError("must be ip[:port], an IPv4 address and an optional port") from None
            if port and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
                raise ValueError("must be ip[:port], with a port from 1 to 65535") from None
        return value

    @property
    def extension_dir(self) -> Path:
        """DuckDB extensions installed from their wheels (pipeline/store/extensions.py)."""
        return self.data_dir / "duckdb_extensions"

    @property
    def inbox_dir(self) -> Path:
        return self.data_dir / "inbox"

    @property
    def spool_dir(self) -> Path:
        """Where `tlsrpt serve` lands HTTPS-posted reports for the pipeline to pick up."""
        return self.data_dir / "spool" / "https"

    @property
    def imap_spool_dir(self) -> Path:
        """Where `tlsrpt fetch-imap` lands messages fetched from a mailbox."""
        return self.data_dir / "spool" / "imap"

    def drop_folders(self) -> dict[Path, str]:
        """Folders the pipeline empties on each run, and the channel of what arrives in each."""
        return {self.inbox_dir: "file", self.spool_dir: "https", self.imap_spool_dir: "imap"}

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster"

    @property
    def has_dagster_history(self) -> bool:
        """Whether Dagster may hold a run of this data dir: its instance config was written and
        the runs are in PostgreSQL (only a connection can tell more), or in its SQLite run file."""
        home = self.dagster_home
        return (home / "dagster.yaml").exists() and (bool(self.dagster_postgres) or (home / "history" / "runs.db").exists())

    @property
    def alerts_config_path(self) -> Path:
        """The alerts channels (docs/alerts.md): `TLSRPT_ALERTS_CONFIG`, else <data>/alerts.toml."""
        return self.alerts_config or self.data_dir / "alerts.toml"

    @property
    def detection_config_path(self) -> Path:
        """The detection thresholds: `TLSRPT_DETECTION_CONFIG`, else <data>/detection.toml."""
        return self.detection_config or self.data_dir / "detection.toml"


def variable(*field: str) -> str:
    """The environment variable of a field: `("imap", "port")` -> TLSRPT_IMAP_PORT."""
    return PREFIX + "_".join(field).upper()


# Read from the environment, never the secrets a file names (those go through `secret`).
VARIABLES: dict[tuple[str, ...], str] = {
    **{(name,): variable(name) for name in Settings.model_fields if name != "imap"},
    **{("imap", name): variable("imap", name) for name in ImapSettings.model_fields},
}


def _with_environment(given: dict[str, Any]) -> tuple[dict[str, Any], set[tuple[str, ...]]]:
    """The caller's values, completed from the environment (an empty variable counts as unset);
    also which fields came from there, so an error can name the variable."""
    values = dict(given)
    from_env: set[tuple[str, ...]] = set()
    nested: dict[str, Any] = {}
    for field, name in VARIABLES.items():
        raw = os.environ.get(name, "")
        if not raw or field[0] in given:
            continue
        from_env.add(field)
        if len(field) == 1:
            values[field[0]] = raw
        else:
            nested[field[1]] = raw
    if nested:
        values["imap"] = nested
    return values, from_env


def _one_line(exc: ValidationError, from_env: set[tuple[str, ...]]) -> str:
    error = exc.errors(include_url=False)[0]
    field = tuple(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    shown = repr(error.get("input")) if _shown(field) else "(not shown: it may hold a password)"
    if field in from_env:
        return f"{VARIABLES[field]}={shown}: {message}"
    return f"setting {'.'.join(field)}={shown}: {message}"


def _shown(field: tuple[str, ...]) -> bool:
    """Whether an error may repeat the value: not for the fields that hold secrets (repr=False)."""
    model = ImapSettings if field[0] == "imap" and len(field) > 1 else Settings
    info = model.model_fields.get(field[-1])
    return info is None or info.repr
