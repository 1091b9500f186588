"""Dagster resource: the warehouse settings, so assets never read the environment themselves."""


import dagster as dg

from pipeline.settings import Settings, default_data_dir, default_workers


class WarehouseResource(dg.ConfigurableResource):
    """Where the data dir is (inbox, landing, Parquet, DuckDB) and how many parser processes."""

    data_dir: str = str(default_data_dir())
    workers: int = default_workers()

    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, workers=self.workers)  # type: ignore[arg-type]
