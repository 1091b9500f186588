"""Dagster assets, one module per layer: ingest (inbox -> landing -> core tables), checks."""
