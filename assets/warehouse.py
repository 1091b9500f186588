"""One Dagster asset per SQL model file (sql/<schema>/<name>.sql -> asset <schema>/<name>),
its dependencies read from the SQL (pipeline.transform.sql_models)."""

import dagster as dg

from assets.resources import WarehouseResource
from pipeline.store.snapshot import publish
from pipeline.transform.sql_models import Model, build_one, load_models


def _key(dependency: str) -> dg.AssetKey:
    schema, name = dependency.split(".", 1)
    return dg.AssetKey(name) if schema == "main" else dg.AssetKey([schema, name])


def _model_asset(model: Model) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey([model.schema, model.name]),
        # config.* tables are written by the build step itself (thresholds, cause catalogue).
        deps=[_key(d) for d in sorted(model.deps) if not d.startswith("config.")],
        group_name=model.schema,
        kinds={"duckdb", "sql"},
        description=f"{model.grain}\n\nsql/{model.schema}/{model.name}.sql",
    )
    def _build(warehouse: WarehouseResource) -> dg.MaterializeResult:
        rows = build_one(warehouse.settings(), model)
        return dg.MaterializeResult(metadata={"rows": rows, "grain": model.grain})

    return _build


_MODELS = load_models()


@dg.asset(
    key="dashboard_snapshot",
    deps=[dg.AssetKey([m.schema, m.name]) for m in _MODELS.values() if m.schema in ("marts", "detect")],
    group_name="serving",
    kinds={"duckdb"},
    description="A read-only copy of the warehouse the dashboard reads (<data>/snapshots), so neither blocks the other.",
)
def dashboard_snapshot(warehouse: WarehouseResource) -> dg.MaterializeResult:
    path = publish(warehouse.settings())
    return dg.MaterializeResult(metadata={"snapshot": str(path) if path else "none (no warehouse yet)"})


model_assets = [*(_model_asset(model) for model in _MODELS.values()), dashboard_snapshot]
