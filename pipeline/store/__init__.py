"""Store: everything that writes or reads the warehouse files. The landing zone (immutable packs
of raw bytes), the batch commit into the DuckDB core tables (schema.sql, with column comments
from schema_comments), the Parquet copies, the published read-only snapshot, and finding the raw
bytes behind a report."""
