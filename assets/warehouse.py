"""One Dagster asset per SQL model file (sql/<schema>/<name>.sql -> asset <schema>/<name>),
its dependencies read from the SQL (pipeline.transform.sql_models), all built by one step."""

import dagster as dg

from assets.resources import WarehouseResource
from pipeline.store.builds import record_build
from pipeline.store.warehouse import connect, writer_lock
from pipeline.transform.sql_models import (
    Model,
    ModelError,
    build_changed,
    build_one,
    build_order,
    failed_models,
    give_empty_models_statistics,
    load_models,
)


def _key(dependency: str) -> dg.AssetKey:
    schema, name = dependency.split(".", 1)
    return dg.AssetKey(name) if schema == "main" else dg.AssetKey([schema, name])


def _spec(model: Model) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=_key(model.key),
        # config.* tables are written by the build itself (thresholds, cause catalogue).
        deps=[_key(d) for d in sorted(model.deps) if not d.startswith("config.")],
        group_name=model.schema,
        kinds={"duckdb", "sql"},
        description=f"{model.grain}\n\nsql/{model.schema}/{model.name}.sql",
    )


_MODELS = load_models()
_ORDER = build_order(_MODELS)


@dg.multi_asset(specs=[_spec(_MODELS[key]) for key in _ORDER], can_subset=True, name="sql_models")
def sql_models(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Every model in one step and one transaction when the run asks for all of them (a step per
    model paid ~0.3 s each for opening the lake, fingerprints and its own commit); one by one,
    each in its own transaction, when a subset is asked for (the UI's "materialize selected").
    A model that fails costs only itself and the models reading it: they keep their last
    tables, the rest is built, and the check `every_model_built` fails, naming it."""
    settings = warehouse.settings()
    wanted = [key for key in _ORDER if _key(key) in context.selected_asset_keys]
    if len(wanted) == len(_ORDER):
        build = build_changed(settings)
        for key in wanted:
            metadata = {"grain": _MODELS[key].grain}
            if key in build.failures:
                context.log.error(build.failures[key])
                metadata["failed"] = build.failures[key]
            elif key in build.kept:
                metadata["kept"] = "reads a model that failed: its last table is kept"
            if key in build.rows and key not in build.failures:
                metadata["rows"] = build.rows[key]
            yield dg.MaterializeResult(asset_key=_key(key), metadata=metadata)
        return
    for key in wanted:
        model = _MODELS[key]
        try:
            metadata = {"rows": build_one(settings, model), "grain": model.grain}
        except ModelError as exc:
            context.log.error(exc.first_line)
            metadata = {"failed": exc.first_line, "grain": model.grain}
        yield dg.MaterializeResult(asset_key=_key(key), metadata=metadata)


@dg.asset(
    key="dashboard_snapshot",
    deps=[_key(m.key) for m in _MODELS.values() if m.schema in ("marts", "detect")],
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


model_assets = [sql_models, dashboard_snapshot]
