"""Row dicts -> polars frames with the exact column types of schema.sql, one frame per batch."""

from __future__ import annotations

from typing import Any

import polars as pl

UTC_TIME = pl.Datetime("us", "UTC")
TLSA = pl.List(
    pl.Struct({"usage": pl.Int32, "selector": pl.Int32, "matching_type": pl.Int32, "association_data": pl.String})
)
STRINGS = pl.List(pl.String)

SCHEMAS: dict[str, dict[str, Any]] = {
    "reports": {
        "report_key": pl.String, "organization_name": pl.String, "report_id": pl.String,
        "contact_info": pl.String, "contact_domain": pl.String, "start_at": UTC_TIME, "end_at": UTC_TIME,
        "report_date": pl.Date, "received_at": UTC_TIME, "channel": pl.String, "raw_sha256": pl.String,
        "part_index": pl.Int32, "content_sha256": pl.String, "policy_count": pl.Int32,
        "header_report_domain": pl.String, "header_submitter": pl.String, "message_id": pl.String,
        "subject": pl.String, "attachment_name": pl.String, "conformance_flags": STRINGS,
        "parser_version": pl.String,
    },
    "policies": {
        "report_key": pl.String, "policy_index": pl.Int32, "report_date": pl.Date, "policy_type": pl.String,
        "policy_domain": pl.String, "policy_domain_source": pl.String, "policy_string_raw": STRINGS,
        "policy_strings": STRINGS, "mx_host": STRINGS, "sts_mode": pl.String, "sts_max_age": pl.Int64,
        "sts_mx": STRINGS, "tlsa_records": TLSA, "successful_session_count": pl.Int64,
        "failed_session_count": pl.Int64, "failure_detail_session_sum": pl.Int64,
        "failure_detail_count": pl.Int32, "has_totals_mismatch": pl.Boolean,
    },
    "failure_details": {
        "report_key": pl.String, "policy_index": pl.Int32, "detail_index": pl.Int32, "report_date": pl.Date,
        "policy_domain": pl.String, "result_type": pl.String, "failed_session_count": pl.Int64,
        "sending_mta_ip": pl.String, "is_sending_mta_ip_valid": pl.Boolean, "receiving_mx_hostname": pl.String,
        "receiving_mx_helo": pl.String, "receiving_ip": pl.String, "is_receiving_ip_valid": pl.Boolean,
        "additional_information": pl.String, "failure_reason_code": pl.String,
    },
    "deliveries": {
        "delivery_id": pl.String, "batch_id": pl.String, "ingested_at": UTC_TIME, "ingested_date": pl.Date,
        "received_at": UTC_TIME, "channel": pl.String, "origin": pl.String, "part_index": pl.Int32,
        "attachment_name": pl.String, "message_id": pl.String, "raw_sha256": pl.String, "raw_size": pl.Int64,
        "raw_kind": pl.String, "raw_path": pl.String, "outcome": pl.String, "reason_code": pl.String,
        "detail": pl.String, "report_key": pl.String, "parser_version": pl.String,
    },
}


def frame(table: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMAS[table], orient="row" if rows and not isinstance(rows[0], dict) else None)
