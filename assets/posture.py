"""The daily posture checks (docs/posture.md): probe the watched domains, keep the results in
`posture_checks`; the sql/posture models (assets posture/*) read them. Kept out of the ingest
job: probing the network never delays or blocks loading reports."""

import dagster as dg

from assets.checks import _key_sql, _rows_check
from assets.resources import WarehouseResource
from pipeline.posture.settings import PostureSettings
from pipeline.store.posture_history import check_and_record, watched_domains


@dg.asset(
    key="posture_checks",
    deps=["policies"],  # the watched domains default to the policy domains seen in reports
    group_name="posture",
    kinds={"duckdb"},
    description="One row per domain, check, target and time: what the watched domains publish (DNS, policy file, MX TLS).",
)
def posture_checks(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    posture = PostureSettings()
    if not posture.enabled:
        return dg.MaterializeResult(metadata={"skipped": "TLSRPT_POSTURE=off: nothing was probed"})
    settings = warehouse.settings()
    domains = watched_domains(settings, posture)
    run, run_id = check_and_record(settings, domains, posture.probe_config())
    verdicts = {v: sum(r.verdict == v for r in run.results) for v in ("ok", "warn", "fail", "error")}
    context.log.info(f"checked {len(domains) - len(run.skipped)} domains: {verdicts}")
    return dg.MaterializeResult(metadata={"run_id": run_id, "domains": len(domains) - len(run.skipped),
                                          "skipped_over_cap": len(run.skipped), **verdicts})


POSTURE_KEYS = {
    "posture/latest_checks": ["domain", "check_name", "target"],
    "posture/domain_posture": ["domain"],
    "posture/enforce_readiness": ["policy_domain"],
    "posture/posture_problems": ["problem_id"],
}
posture_model_checks = [
    _rows_check(asset, "key_unique_and_not_null", _key_sql(asset.replace("/", "."), cols), f"({', '.join(cols)}) is unique and not null")
    for asset, cols in POSTURE_KEYS.items()
]

posture_job = dg.define_asset_job(
    "posture_job",
    selection=dg.AssetSelection.assets("posture_checks").downstream() | dg.AssetSelection.assets("dashboard_snapshot"),
    description="probe the watched domains -> posture_checks -> posture models -> dashboard snapshot",
)
# Daily, early UTC: certificates and policies change rarely, and one run a day spots an expiry
# days ahead (TLSRPT_POSTURE_EXPIRY_DAYS). TLSRPT_POSTURE=off turns the probing off.
posture_daily = dg.ScheduleDefinition(job=posture_job, cron_schedule="0 5 * * *", execution_timezone="UTC",
                                     default_status=dg.DefaultScheduleStatus.RUNNING)
