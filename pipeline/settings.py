"""Where everything is written, and how hard to work. One object, passed everywhere.

The data dir comes from `--data-dir`, else `TLSRPT_DATA_DIR`, else `./data`: everything the tool
writes (inbox, landing zone, Parquet, DuckDB file, Dagster home) lives below it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def default_data_dir() -> Path:
    return Path(os.environ.get("TLSRPT_DATA_DIR") or "data")


def default_workers() -> int:
    return int(os.environ.get("TLSRPT_WORKERS") or os.cpu_count() or 1)


def default_batch_parts() -> int:
    # Report payloads per transaction and pack file; small values only make sense in tests.
    # 20,000: each commit has a fixed cost (WAL flush, pack fsync); at 5,000 those were a fifth
    # of the committing process's time at 100k reports.
    return int(os.environ.get("TLSRPT_BATCH_PARTS") or 20_000)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    workers: int = field(default_factory=default_workers)
    batch_parts: int = field(default_factory=default_batch_parts)
    # DNS server for DKIM key lookups ("ip[:port]"); empty: the system resolver.
    dns_server: str = field(default_factory=lambda: os.environ.get("TLSRPT_DNS_SERVER", ""))
    # record: keep every mailed report and mark its DKIM verdict; require: quarantine mailed
    # reports whose signature does not verify (RFC 8460 section 3 says to ignore them).
    dkim_policy: str = field(default_factory=lambda: os.environ.get("TLSRPT_DKIM_POLICY", "record"))

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir).absolute())

    @property
    def db_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def extension_dir(self) -> Path:
        """DuckDB extensions installed from their wheels (pipeline/store/extensions.py)."""
        return self.data_dir / "duckdb_extensions"

    @property
    def parquet_dir(self) -> Path:
        return self.data_dir / "parquet"

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
        configured = os.environ.get("TLSRPT_ALERTS_CONFIG")
        return Path(configured).absolute() if configured else self.data_dir / "alerts.toml"
