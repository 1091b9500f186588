"""tlsrpt-warehouse: raw TLS-RPT reports in, an open DuckDB/Parquet warehouse out."""

# Bumped whenever parsing rules change, so a quarantine record says which parser refused it.
PARSER_VERSION = "1"
