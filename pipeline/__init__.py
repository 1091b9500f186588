"""tlsrpt-warehouse: raw TLS-RPT reports in, an open DuckDB/Parquet warehouse out.

The stages, in the order data flows (docs/architecture.md): intake -> parse -> store ->
transform (sql/) -> detect -> alerts. At the top: the entry points (cli, ingest, ingest_cli,
status), the settings, and `read`, the one module the dashboard reads through."""

# Bumped whenever parsing rules change, so a quarantine record says which parser refused it.
PARSER_VERSION = "1"
