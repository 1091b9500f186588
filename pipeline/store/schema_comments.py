"""COMMENT ON text for every core table and column: shown by DuckDB (`duckdb_columns()`) and
repeated in README.md's schema section (a test keeps the two in step). The SQL models' and config
tables' column comments live beside the SQL, in sql/columns.toml (`model_column_comment`)."""

import tomllib
from functools import cache
from importlib import resources
from pathlib import Path

MODEL_COLUMNS_FILE = Path(str(resources.files("sql").joinpath("columns.toml")))  # the checkout's or the installed package's

from pipeline.vocabulary import POLICY_TYPES

TABLES = {
    "reports": "One row per distinct TLS-RPT report (organization_name + report_id); duplicates are in deliveries. Two writers loading one report at once leave a copy each: staging.reports keeps the earlier batch's.",
    "policies": "One row per policy block of a report: what the reporter applied and its session totals as stated.",
    "failure_details": "One row per failure-details entry of a policy: result type, addresses, count and reason.",
    "deliveries": "One row per report payload seen in an input (or one per input without any): outcome loaded, duplicate or quarantined.",
    "raw_objects": "One row per distinct raw input stored in the landing zone: where its bytes are.",
    "ingest_batches": "One row per committed ingest batch (landing/packs/<batch_id>.pack lists its arrivals).",
    "builds": "One row per model build: the lake snapshot it committed; the dashboard and alerts read the newest passed one.",
    "schema_info": "Version of the warehouse schema (internal).",
    "posture_checks": "One row per domain, check, target and time: what the domain published when checked (docs/posture.md).",
}

COLUMNS = {
    "reports": {
        "report_key": "Stable unique id: first 32 hex digits of sha256(organization_name, report_id).",
        "organization_name": "organization-name as sent (the reporting organisation).",
        "report_id": "report-id as sent; unique per reporter.",
        "contact_info": "contact-info as sent (null from Stalwart-based senders).",
        "contact_domain": "Domain part of contact_info, lower-cased.",
        "start_at": "date-range.start-datetime in UTC (naive times are read as UTC and flagged).",
        "end_at": "date-range.end-datetime in UTC.",
        "report_date": "UTC date of start_at: the day the report describes (the bucketing day).",
        "received_at": "When the report reached us: mail Date header, else the file's modification time.",
        "channel": "How the first copy arrived: file, maildir, mbox, https or imap.",
        "raw_sha256": "sha256 of the raw input that first carried this report (see raw_objects).",
        "part_index": "Which report inside that input (0 unless a mail or zip carried several).",
        "content_sha256": "sha256 of the decoded JSON in canonical form: equal for the same report by any channel.",
        "policy_count": "Number of policies in the report.",
        "header_report_domain": "TLS-Report-Domain mail header, when mailed.",
        "header_submitter": "TLS-Report-Submitter mail header, when mailed.",
        "message_id": "Message-ID header, when mailed (not unique: never a key).",
        "subject": "Subject header, unfolded, when mailed.",
        "attachment_name": "File name of the attachment or zip entry, as metadata only.",
        "conformance_flags": "Every leniency this report needed (naive_datetime, totals_mismatch, ...): see README.",
        "parser_version": "Version of the parsing rules that loaded this row.",
        "dkim_result": "DKIM verdict of the mail that carried the report, taken on arrival: pass, fail, temperror or none (unsigned); null when not mailed.",
        "dkim_domain": "The signing domain (d=) of that signature.",
        "dkim_aligned": "Whether d= is the TLS-Report-Submitter or From domain (or a parent of it).",
        "dkim_key_tlsrpt": "Whether the DKIM key record names the tlsrpt service (s=tlsrpt; RFC 8460 says SHOULD).",
        "trust": "dkim_verified, dkim_failed, unsigned_mail, or unauthenticated (HTTPS or a plain file): filter on it.",
        "batch_id": "The ingest batch that loaded this row (ingest_batches; landing/packs/<batch_id>.pack).",
    },
    "policies": {
        "report_key": "The report (reports.report_key).",
        "policy_index": "Position of the policy in the report's policies array, from 0.",
        "report_date": "UTC start day of the report (partition key).",
        "policy_type": f"policy-type verbatim: {', '.join(POLICY_TYPES)}, or an unknown string (flagged).",
        "policy_domain": "policy-domain, lower-cased; recovered from the mail header or file name when missing.",
        "policy_domain_source": "Where policy_domain came from: report, mail_header or filename (null if unknown).",
        "policy_string_raw": "policy-string exactly as sent (null when absent).",
        "policy_strings": "policy-string decoded: Microsoft's JSON-array-in-a-string for TLSA unwrapped.",
        "mx_host": "mx-host normalised to a list of lower-case names (string, list or absent in reports).",
        "sts_mode": "MTA-STS mode from the policy string: enforce, testing or none.",
        "sts_max_age": "MTA-STS max_age in seconds from the policy string.",
        "sts_mx": "MTA-STS mx: patterns from the policy string.",
        "tlsa_records": "TLSA records parsed from the policy string (usage, selector, matching type, data).",
        "successful_session_count": "summary.total-successful-session-count as stated (null if missing).",
        "failed_session_count": "summary.total-failure-session-count as stated (null if missing).",
        "failure_detail_session_sum": "Sum of failed-session-count over this policy's failure details (computed).",
        "failure_detail_count": "Number of failure-details entries.",
        "has_totals_mismatch": "True when the stated failed count differs from the details' sum.",
        "batch_id": "The ingest batch that loaded this row (ingest_batches; landing/packs/<batch_id>.pack).",
    },
    "failure_details": {
        "report_key": "The report (reports.report_key).",
        "policy_index": "The policy (policies.policy_index).",
        "detail_index": "Position in failure-details, from 0.",
        "report_date": "UTC start day of the report (partition key).",
        "policy_domain": "The policy's domain (copied for convenience).",
        "result_type": "result-type verbatim (RFC 8460 registry or an unknown string).",
        "failed_session_count": "failed-session-count as stated.",
        "sending_mta_ip": "sending-mta-ip as sent (the sender's MTA; empty means unknown).",
        "is_sending_mta_ip_valid": "Whether sending_mta_ip parses as an IP address (null when absent).",
        "sending_mta_network": "The sender's /24 (IPv4) or /64 (IPv6) network, when sending_mta_ip is valid.",
        "receiving_mx_hostname": "receiving-mx-hostname, lower-cased (our MX as the sender saw it).",
        "receiving_mx_helo": "receiving-mx-helo as sent (may hold a multi-line EHLO reply).",
        "receiving_ip": "receiving-ip as sent.",
        "is_receiving_ip_valid": "Whether receiving_ip parses as an IP address (null when absent).",
        "additional_information": "additional-information URI as sent (never validated).",
        "failure_reason_code": "failure-reason-code free text as sent.",
        "batch_id": "The ingest batch that loaded this row (ingest_batches; landing/packs/<batch_id>.pack).",
    },
    "deliveries": {
        "delivery_id": "Unique id: batch id, input number and part index.",
        "batch_id": "The ingest batch (ingest_batches; landing/packs/<batch_id>.pack).",
        "ingested_at": "When this run processed the input (UTC).",
        "ingested_date": "UTC date of ingested_at (partition key).",
        "received_at": "When the input reached us (mail Date header, else file time).",
        "channel": "file, maildir, mbox, https or imap.",
        "origin": "Where it came from: the path, or path#n for the n-th message of an mbox, or the IMAP URL of a message refused unread (over the size cap).",
        "part_index": "Which report payload inside the input, from 0.",
        "attachment_name": "Attachment or zip entry name, as escaped metadata.",
        "message_id": "Message-ID header of a mailed input.",
        "raw_sha256": "sha256 of the input's raw bytes (null when they could not be read); see raw_objects.",
        "raw_size": "Size of the raw input in bytes.",
        "raw_kind": "What the bytes were sniffed as: json, gzip, zip, mail, mbox, xml, unknown, empty.",
        "outcome": "loaded, duplicate or quarantined.",
        "reason_code": "Why duplicate (same_bytes, same_report, same_key_different_content) or quarantined.",
        "detail": "Human-readable detail of the reason.",
        "report_key": "The report this payload is (loaded or duplicate).",
        "parser_version": "Version of the parsing rules that decided the outcome.",
    },
    "raw_objects": {
        "raw_sha256": "sha256 of the raw input: its address.",
        "pack_path": "The pack file holding the bytes, relative to the data dir (landing/packs/...).",
        "byte_offset": "Where the bytes start in the pack.",
        "byte_size": "How many bytes.",
        "raw_kind": "What the bytes were sniffed as (json, gzip, zip, mail, ...).",
        "batch_id": "The batch that first stored them.",
    },
    "ingest_batches": {
        "batch_id": "Batch id: UTC timestamp plus a random suffix.",
        "committed_at": "When the batch's rows were committed.",
        "inputs": "Inputs in the batch.",
        "loaded": "Report payloads loaded.",
        "duplicates": "Report payloads that were duplicates.",
        "quarantined": "Payloads or inputs quarantined.",
    },
    "builds": {
        "snapshot_id": "The lake snapshot the build committed (`ATTACH … (SNAPSHOT_VERSION n)` reads it).",
        "built_at": "When the build committed (UTC).",
        "passed": "True when no SQL model failed (config.model_failures was empty).",
    },
    "schema_info": {"version": "Schema version this lake was created with."},
    "posture_checks": {
        "run_id": "The check run that wrote the row (one transaction per run).",
        "checked_at": "When the check ran (UTC).",
        "domain": "The policy domain checked, lower-case.",
        "check_name": "tlsrpt_txt, sts_txt, sts_policy, mx, mx_coverage, starttls, mx_certificate, tlsa, or run.",
        "target": "What was asked: a DNS name, the policy URL or an MX host.",
        "verdict": "ok, warn, fail, or error (could not tell: DNS timeout, port 25 blocked; retry).",
        "reason": "Stable reason code, e.g. multiple_records, certificate_expired, mx_not_in_policy.",
        "detail": "One line for a person.",
        "raw_answer": "The answer as received (DNS records, policy file, SMTP banner), capped at 4096 characters.",
        "facts": "JSON of what the check found: policy id, mode, mx patterns, certificate names and expiry, TLSA matches.",
    },
}


@cache
def _model_columns() -> dict:
    with MODEL_COLUMNS_FILE.open("rb") as f:
        return tomllib.load(f)


def model_column_comment(table: str, column: str) -> str | None:
    """The comment of `column` in model or config table `table` ("schema.name"): the table's own
    section of sql/columns.toml, else the glossary's meaning of that column name."""
    found = _model_columns()
    return found.get(table, {}).get(column) or found["columns"].get(column)
