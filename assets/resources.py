"""Dagster resource: the warehouse settings, so assets never read the environment themselves."""


import os

import dagster as dg

from pipeline.intake.imap_fetch import ImapConfig
from pipeline.settings import Settings, default_data_dir, default_workers


class WarehouseResource(dg.ConfigurableResource):
    """Where the data dir is (inbox, landing, Parquet, DuckDB) and how many parser processes."""

    data_dir: str = str(default_data_dir())
    workers: int = default_workers()

    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, workers=self.workers)  # type: ignore[arg-type]


class ImapResource(dg.ConfigurableResource):
    """The IMAP account to fetch reports from; empty host: no IMAP intake. The password is read
    from the environment variable named here (never stored in the definitions)."""

    host: str = ""
    port: int = 993
    security: str = "tls"
    user: str = ""
    password_env: str = "TLSRPT_IMAP_PASSWORD"
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    quarantine_folder: str = "Quarantine"
    read_only: bool = False
    ca_file: str = ""

    @classmethod
    def from_env(cls) -> "ImapResource":
        env = os.environ
        return cls(
            host=env.get("TLSRPT_IMAP_HOST", ""), port=int(env.get("TLSRPT_IMAP_PORT", 993)),
            security=env.get("TLSRPT_IMAP_SECURITY", "tls"), user=env.get("TLSRPT_IMAP_USER", ""),
            folder=env.get("TLSRPT_IMAP_FOLDER", "INBOX"),
            read_only=env.get("TLSRPT_IMAP_READ_ONLY", "") in ("1", "true", "yes"),
            ca_file=env.get("TLSRPT_IMAP_CA_FILE", ""),
        )

    def config(self) -> ImapConfig | None:
        if not self.host:
            return None
        return ImapConfig(
            host=self.host, port=self.port, security=self.security, user=self.user,
            password=os.environ.get(self.password_env, ""), folder=self.folder,
            processed_folder=self.processed_folder, quarantine_folder=self.quarantine_folder,
            read_only=self.read_only, ca_file=self.ca_file or None,
        )
