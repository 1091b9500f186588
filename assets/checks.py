"""Asset checks on the core tables: keys unique and not null, every row accounted for."""


import dagster as dg
import duckdb

from pipeline.resources import WarehouseResource

# (asset, check name, SQL counting offending rows, what it proves)
CHECKS = [
    ("reports", "report_key_unique", "select count(*) - count(distinct report_key) + count(*) filter (report_key is null) from reports", "report_key is unique and not null"),
    ("policies", "policy_key_unique", "select count(*) - count(distinct (report_key, policy_index)) from policies", "(report_key, policy_index) is unique"),
    ("policies", "policies_have_reports", "select count(*) from policies p anti join reports r using (report_key)", "every policy belongs to a loaded report"),
    ("failure_details", "details_have_policies", "select count(*) from failure_details d anti join policies p using (report_key, policy_index)", "every failure detail belongs to a loaded policy"),
    ("deliveries", "loaded_reports_have_one_loaded_delivery", "select count(*) from reports r full join (select report_key, count(*) n from deliveries where outcome = 'loaded' group by 1) d using (report_key) where d.n is distinct from 1 or r.report_key is null", "each report has exactly one loaded delivery, and each loaded delivery a report"),
    ("deliveries", "quarantine_has_reason", "select count(*) from deliveries where outcome = 'quarantined' and reason_code is null", "every quarantined input says why"),
]


def _make_check(asset: str, name: str, sql: str, doc: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset, name=name, description=doc)
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        con = duckdb.connect(str(warehouse.settings().db_path), read_only=True)
        try:
            offending = con.execute(sql).fetchone()[0]
        finally:
            con.close()
        return dg.AssetCheckResult(passed=offending == 0, metadata={"offending_rows": offending})

    return _check


core_checks = [_make_check(*spec) for spec in CHECKS]
