"""One Dagster asset per SQL model file (sql/<schema>/<name>.sql -> asset <schema>/<name>),
its dependencies read from the SQL (pipeline.transform.sql_models)."""

import dagster as dg

from assets.resources import WarehouseResource
from pipeline.store.builds import record_build
from pipeline.store.warehouse import connect, writer_lock
from pipeline.transform.sql_models import (
    Model,
    ModelError,
    build_one,
    failed_models,
    give_empty_models_statistics,
    load_models,
)


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
    def _build(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        try:
            rows = build_one(warehouse.settings(), model)
        except ModelError as exc:
            # One model's failure must not freeze the rest: it keeps its last table, the steps
            # after it and the build record go on, and the check `every_model_built` fails, naming it.
            context.log.error(exc.first_line)
            return dg.MaterializeResult(metadata={"failed": exc.first_line, "grain": model.grain})
        return dg.MaterializeResult(metadata={"rows": rows, "grain": model.grain})

    return _build


_MODELS = load_models()


@dg.asset(
    key="dashboard_snapshot",
    deps=[dg.AssetKey([m.schema, m.name]) for m in _MODELS.values() if m.schema in ("marts", "detect")],
    group_name="serving",
    kinds={"duckdb"},
    description="The lake snapshot the dashboard and the alerts read: the models' build, recorded in `builds`"
                " (passed when no model failed; a failed build leaves readers on the last passed one).",
)
def dashboard_snapshot(warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings()
    passed = not failed_models(settings)
    with writer_lock(settings.data_dir):
        con = connect(settings)
        try:
            snapshot = record_build(con, passed)
            if passed:
                give_empty_models_statistics(con)
        finally:
            con.close()
    return dg.MaterializeResult(metadata={"snapshot": snapshot, "passed": passed})


@dg.asset_check(asset=dashboard_snapshot, name="every_model_built", blocking=False,
                description="No SQL model failed its last build (config.model_failures): a failed one keeps its last table.")
def every_model_built(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    failures = failed_models(warehouse.settings())
    return dg.AssetCheckResult(passed=not failures, metadata={"failed": len(failures), **failures})


model_assets = [*(_model_asset(model) for model in _MODELS.values()), dashboard_snapshot]
