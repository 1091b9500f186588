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
    value = error.get("input")
    if field in from_env:
        return f"{VARIABLES[field]}={value!r}: {message}"
    return f"setting {'.'.join(field)}={value!r}: {message}"
