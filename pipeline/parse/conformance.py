"""Every conformance flag a report can carry: the leniency it needed, in words.

Stored per report in reports.conformance_flags; later they score reporters ("report health").
"""

from pipeline.vocabulary import POLICY_TYPES, in_words

FLAGS: dict[str, str] = {
    "alias_key": "used an RFC field-list name (mx-host-pattern, additional-info-uri) instead of the schema key",
    "base64_file": "the report was stored as base64 text",
    "contact_info_missing": "contact-info is null or absent (Stalwart-based senders)",
    "date_range_not_one_day": "date-range does not cover one day (RFC: SHOULD cover a full day)",
    "empty_string_field": "a field was an empty string; read as missing",
    "failed_session_count_missing": "a failure detail has no failed-session-count",
    "failure_session_count_missing": "summary.total-failure-session-count is missing",
    "successful_session_count_missing": "summary.total-successful-session-count is missing",
    "failures_without_details": "failures are counted but no failure-details are given",
    "totals_mismatch": "summary failure count differs from the sum of failure-details",
    "filename_policy_domain_mismatch": "the RFC file name names another policy domain than the JSON",
    "header_policy_domain_mismatch": "TLS-Report-Domain names another policy domain than the JSON",
    "submitter_contact_mismatch": "TLS-Report-Submitter differs from the contact-info domain",
    "gzip_labelled_json": "labelled gzip, but the body is plain JSON",
    "ip_invalid": "a sending-mta-ip or receiving-ip does not parse as an IP address",
    "leap_second": "a date-time had second 60 (clamped to 59)",
    "mx_host_prefixed": "mx-host entries carried an 'mx: ' prefix",
    "mx_host_string": "mx-host was a single string, not a list",
    "naive_datetime": "a date-time had no time zone; read as UTC (Microsoft 2023-24)",
    "policies_empty": "the policies array is empty",
    "policy_domain_missing": "a policy has no policy-domain (older Postfix/sys4)",
    "policy_domain_from_header": "the missing policy-domain was taken from TLS-Report-Domain",
    "policy_domain_from_filename": "the missing policy-domain was taken from the RFC file name",
    "policy_domain_unrecovered": "a missing policy-domain could not be recovered",
    "policy_type_missing": "a policy has no policy-type",
    "result_type_missing": "a failure detail has no result-type",
    "summary_missing": "a policy has no summary object",
    "sts_max_age_invalid": "the STS policy string has a max_age that is not a number",
    "sts_policy_line_invalid": "the STS policy string has a line that is not 'key: value'",
    "tlsa_policy_string_double_encoded": "TLSA policy-string was one string holding a JSON array (Microsoft)",
    "tlsa_record_invalid": "a TLSA policy-string entry is not 'usage selector mtype data'",
    "trailing_data": "bytes followed the JSON object (ignored, kept in the raw copy)",
    "unknown_key": "the report had keys RFC 8460 does not define (ignored)",
    "unknown_policy_type": f"policy-type is not {in_words(POLICY_TYPES)} (kept verbatim)",
    "unknown_result_type": "result-type is not in the IANA registry (kept verbatim)",
    "utf8_bom": "the JSON started with a UTF-8 byte-order mark",
}
