"""Rows -> Arrow tables with the exact column types of schema.sql.

Columnar construction with pyarrow costs ~4 us a row; polars' and pyarrow's row-wise
constructors took 13-35 us (nested list and struct columns), which dominated a batch.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

UTC_TIME = pa.timestamp("us", tz="UTC")
STRINGS = pa.list_(pa.string())
TLSA = pa.list_(
    pa.struct([("usage", pa.int32()), ("selector", pa.int32()), ("matching_type", pa.int32()), ("association_data", pa.string())])
)

SCHEMAS: dict[str, pa.Schema] = {
    "reports": pa.schema([
        ("report_key", pa.string()), ("organization_name", pa.string()), ("report_id", pa.string()),
        ("contact_info", pa.string()), ("contact_domain", pa.string()), ("start_at", UTC_TIME), ("end_at", UTC_TIME),
        ("report_date", pa.date32()), ("received_at", UTC_TIME), ("channel", pa.string()), ("raw_sha256", pa.string()),
        ("part_index", pa.int32()), ("content_sha256", pa.string()), ("policy_count", pa.int32()),
        ("header_report_domain", pa.string()), ("header_submitter", pa.string()), ("message_id", pa.string()),
        ("subject", pa.string()), ("attachment_name", pa.string()), ("conformance_flags", STRINGS),
        ("parser_version", pa.string()), ("dkim_result", pa.string()), ("dkim_domain", pa.string()),
        ("dkim_aligned", pa.bool_()), ("dkim_key_tlsrpt", pa.bool_()), ("trust", pa.string()),
    ]),
    "policies": pa.schema([
        ("report_key", pa.string()), ("policy_index", pa.int32()), ("report_date", pa.date32()), ("policy_type", pa.string()),
        ("policy_domain", pa.string()), ("policy_domain_source", pa.string()), ("policy_string_raw", STRINGS),
        ("policy_strings", STRINGS), ("mx_host", STRINGS), ("sts_mode", pa.string()), ("sts_max_age", pa.int64()),
        ("sts_mx", STRINGS), ("tlsa_records", TLSA), ("successful_session_count", pa.int64()),
        ("failed_session_count", pa.int64()), ("failure_detail_session_sum", pa.int64()),
        ("failure_detail_count", pa.int32()), ("has_totals_mismatch", pa.bool_()),
    ]),
    "failure_details": pa.schema([
        ("report_key", pa.string()), ("policy_index", pa.int32()), ("detail_index", pa.int32()), ("report_date", pa.date32()),
        ("policy_domain", pa.string()), ("result_type", pa.string()), ("failed_session_count", pa.int64()),
        ("sending_mta_ip", pa.string()), ("is_sending_mta_ip_valid", pa.bool_()), ("sending_mta_network", pa.string()),
        ("receiving_mx_hostname", pa.string()),
        ("receiving_mx_helo", pa.string()), ("receiving_ip", pa.string()), ("is_receiving_ip_valid", pa.bool_()),
        ("additional_information", pa.string()), ("failure_reason_code", pa.string()),
    ]),
    "deliveries": pa.schema([
        ("delivery_id", pa.string()), ("batch_id", pa.string()), ("ingested_at", UTC_TIME), ("ingested_date", pa.date32()),
        ("received_at", UTC_TIME), ("channel", pa.string()), ("origin", pa.string()), ("part_index", pa.int32()),
        ("attachment_name", pa.string()), ("message_id", pa.string()), ("raw_sha256", pa.string()), ("raw_size", pa.int64()),
        ("raw_kind", pa.string()), ("outcome", pa.string()), ("reason_code", pa.string()),
        ("detail", pa.string()), ("report_key", pa.string()), ("parser_version", pa.string()),
    ]),
    "raw_objects": pa.schema([
        ("raw_sha256", pa.string()), ("pack_path", pa.string()), ("byte_offset", pa.int64()), ("byte_size", pa.int64()),
        ("raw_kind", pa.string()), ("batch_id", pa.string()),
    ]),
}

# What a worker sends back per chunk besides the rows: one row per input, one per report payload.
SCHEMAS["inputs"] = pa.schema([
    # path: the file system's bytes (os.fsencode), as a name need not be UTF-8; origin is its text
    ("input_no", pa.int32()), ("path", pa.binary()), ("channel", pa.string()), ("origin", pa.string()),
    ("sha256", pa.string()), ("size", pa.int64()), ("kind", pa.string()), ("received_at", UTC_TIME),
    ("received_at_text", pa.string()), ("dkim_json", pa.string()), ("data", pa.binary()),
])
SCHEMAS["parts"] = pa.schema([
    ("input_no", pa.int32()), ("part_id", pa.int32()), ("part_index", pa.int32()), ("attachment_name", pa.string()),
    ("message_id", pa.string()), ("received_at", UTC_TIME), ("report_key", pa.string()),
    ("content_sha256", pa.string()), ("report_date", pa.string()), ("loadable", pa.bool_()),
    ("reason_code", pa.string()), ("detail", pa.string()),
])

PART_COLUMN = "_part"  # which part of a worker chunk a row came from; dropped before insert


def warm_up() -> None:
    """pyarrow imports pandas on its first conversion of Python objects (0.3 s): do it now, in
    the process that forks the workers, so that they inherit it instead of importing it each."""
    pa.array([""])


def to_ipc(data: pa.Table) -> bytes:
    """Arrow IPC bytes: crossing the process boundary as one buffer costs a copy, where pickling
    the equivalent Python objects cost ~35 us per input in the committing process."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as writer:
        writer.write_table(data)
    return sink.getvalue().to_pybytes()


def from_ipc(buffer: bytes) -> pa.Table:
    return pa.ipc.open_stream(buffer).read_all()


def named(name: str, row: tuple[Any, ...]) -> dict[str, Any]:
    """A row of table `name` (a tuple in schema order) as {column: value}: for tests and reading."""
    names = SCHEMAS[name].names
    if len(row) != len(names):
        raise ValueError(f"a {name} row has {len(row)} values for {len(names)} columns")
    return dict(zip(names, row))


def table(name: str, rows: list[tuple[Any, ...]], parts: list[int] | None = None) -> pa.Table:
    """Build one table column by column from rows (tuples in schema order); `parts` adds the
    _part column used for filtering."""
    schema = SCHEMAS[name]
    # Rows -> columns in C (zip); a comprehension per column cost ~10 us a report.
    columns = zip(*rows) if rows else ([] for _ in schema)
    arrays = [pa.array(values, type=f.type) for values, f in zip(columns, schema, strict=True)]
    if parts is None:
        return pa.Table.from_arrays(arrays, schema=schema)
    return pa.Table.from_arrays(
        [*arrays, pa.array(parts, type=pa.int32())], schema=schema.append(pa.field(PART_COLUMN, pa.int32()))
    )
