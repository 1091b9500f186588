"""Dagster resource: the warehouse settings, so assets never read the environment themselves."""


import dagster as dg

from pipeline.intake.imap_fetch import ImapConfig
from pipeline.settings import ImapSettings, Settings, secret


class WarehouseResource(dg.ConfigurableResource):
    """Where the data dir is (inbox, landing, Parquet, DuckDB) and how many parser processes.
    Empty or 0: the validated settings (TLSRPT_DATA_DIR, TLSRPT_WORKERS, else their defaults)."""

    data_dir: str = ""
    workers: int = 0

    def settings(self) -> Settings:
        given = {"data_dir": self.data_dir, "workers": self.workers}
        return Settings(**{name: value for name, value in given.items() if value})


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
    def from_settings(cls, imap: ImapSettings) -> "ImapResource":
        """The mailbox of the validated TLSRPT_IMAP_* settings."""
        return cls(
            host=imap.host, port=imap.port or (993 if imap.security == "tls" else 143), security=imap.security,
            user=imap.user, folder=imap.folder, read_only=imap.read_only, ca_file=str(imap.ca_file or ""),
        )

    def config(self) -> ImapConfig | None:
        if not self.host:
            return None
        return ImapConfig(
            host=self.host, port=self.port, security=self.security, user=self.user,
            password=secret(self.password_env), folder=self.folder,
            processed_folder=self.processed_folder, quarantine_folder=self.quarantine_folder,
            read_only=self.read_only, ca_file=self.ca_file or None,
        )
