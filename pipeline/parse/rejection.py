"""Why an input was quarantined: a stable reason code plus a human-readable detail."""

from __future__ import annotations

# Stable reason codes (stored in deliveries.reason_code); the text is what `tlsrpt status` shows.
REASONS: dict[str, str] = {
    "not_a_tls_report": "content is not a TLS-RPT report (e.g. a DMARC XML report or an ordinary mail)",
    "empty_input": "the input is empty",
    "input_too_large": "the input is larger than the size cap",
    "not_a_regular_file": "not a regular file (FIFO, device, socket or symlink)",
    "unreadable": "the file could not be read",
    "gzip_too_large": "gzip inflates beyond the size cap (gzip bomb)",
    "gzip_corrupt": "gzip data is corrupt (bad header or CRC)",
    "gzip_truncated": "gzip data ends before the end of the stream",
    "gzip_trailing_data": "bytes follow the gzip stream (multi-member gzip or garbage)",
    "nested_compression": "a compressed layer holds another compressed layer",
    "zip_too_many_entries": "the zip has more entries than allowed",
    "zip_too_large": "a zip entry inflates beyond the size cap (zip bomb)",
    "zip_corrupt": "the zip archive is corrupt",
    "too_many_parts": "the mail has more MIME parts than allowed (MIME bomb)",
    "mime_too_deep": "MIME parts nest too deeply",
    "bad_transfer_encoding": "a MIME part's transfer encoding could not be decoded",
    "no_report_attachment": "the mail carries no TLS report",
    "invalid_utf8": "the JSON is not valid UTF-8",
    "not_json": "the content is not JSON",
    "too_deep": "JSON nests too deeply",
    "number_too_long": "a JSON number has too many digits",
    "non_json_number": "NaN, Infinity or an out-of-range float in the JSON",
    "duplicate_key": "a JSON object repeats a key",
    "lone_surrogate": "a JSON string holds an unpaired UTF-16 surrogate",
    "nul_in_string": "a JSON string holds a NUL character",
    "string_too_long": "a string is longer than the cap",
    "too_many_items": "an array holds more items than the cap, or the report more JSON objects and arrays",
    "schema_missing_field": "a required field is missing",
    "schema_invalid": "a field has the wrong type or value",
    "bad_datetime": "a date-time is not RFC 3339",
    "bad_date_range": "the date range is impossible (start after end, or beyond the calendar)",
    "report_date_implausible": "the report's date is later than tomorrow or before TLS-RPT existed (2016)",
    "count_too_large": "a session count, or a report's sessions in total, exceed the documented maximum (10^12)",
    "worker_died": "the parser process died on this input twice (killed, or out of memory)",
    "dkim_required": "the mail's DKIM signature does not verify and the DKIM policy is 'require'",
    "internal_error": "the parser failed unexpectedly (a bug: please report it)",
}


class Rejected(Exception):
    """Raised anywhere in parsing; caught once per input (or per report) and quarantined."""

    def __init__(self, code: str, detail: str = "") -> None:
        assert code in REASONS, code
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail or REASONS[code]
