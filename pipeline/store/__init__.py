"""Store: everything that writes or reads the warehouse. The landing zone (immutable packs of raw
bytes), the one door to the lake (lake.py: DuckLake, Parquet data files plus a catalog), the batch
commit into the core tables (schema.sql, with column comments from schema_comments), the model
build readers pin (builds.py), the rebuild's old lake set aside, and finding the raw bytes behind
a report."""
