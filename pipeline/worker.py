"""The per-input work, run in worker processes: read, hash, land, extract, flatten.

Everything here is pure per input, so it parallelises across cores (parsing is embarrassingly
parallel). Only plain data goes back to the parent, which alone touches the database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from pipeline import frames
from pipeline.envelope import Envelope
from pipeline.extract import extract
from pipeline.flatten import rows_for
from pipeline.rejection import Rejected
from pipeline.sources import InputRef, IsMbox, is_multi_message_mbox, read_input


@dataclass
class PartResult:
    part_index: int
    attachment_name: str | None = None
    message_id: str | None = None
    received_at: datetime | None = None
    report_key: str | None = None
    content_sha256: str | None = None
    rows: tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]] | None = None
    loadable: bool = False  # parsed and flattened: rows exist in the chunk tables
    report_date: str | None = None
    part_id: int = -1  # index of this part within its chunk: the _part column of the chunk tables
    reason_code: str | None = None
    detail: str | None = None


@dataclass
class InputResult:
    ref: InputRef
    seq: int | None = None  # position in its batch's pack, when replayed from the pack
    is_mbox: bool = False
    sha256: str | None = None
    size: int | None = None
    kind: str | None = None
    data: bytes | None = None  # the raw bytes, for the committing process to pack
    received_at: datetime | None = None
    parts: list[PartResult] = field(default_factory=list)


def _refused(ref: InputRef, exc: Rejected, received_at: datetime | None = None) -> InputResult:
    part = PartResult(0, received_at=received_at, reason_code=exc.code, detail=exc.detail)
    return InputResult(ref, received_at=received_at, parts=[part])


def process_input(ref: InputRef, keep_bytes: bool = True) -> InputResult:
    try:
        data, mtime = read_input(ref)
    except IsMbox:
        return InputResult(ref, is_mbox=True)
    except Rejected as exc:
        return _refused(ref, exc)
    if ref.length < 0 and is_multi_message_mbox(data):
        return InputResult(ref, is_mbox=True)
    if ref.received_at:
        received = datetime.fromisoformat(ref.received_at)
    else:
        received = datetime.fromtimestamp(mtime, tz=timezone.utc)
    sha256 = hashlib.sha256(data).hexdigest()
    result = InputResult(ref, sha256=sha256, size=len(data), received_at=received, data=data if keep_bytes else None)
    try:
        kind, outcomes = extract(data, Envelope(channel=ref.channel, origin=ref.origin, received_at=received))
        result.kind = kind
    except Exception as exc:  # a parser bug must cost one input, never the batch
        result.parts = [PartResult(0, received_at=received, reason_code="internal_error", detail=repr(exc)[:500])]
        return result
    for outcome in outcomes:
        part = PartResult(outcome.part_index, attachment_name=outcome.attachment_name, received_at=received)
        if outcome.parsed is not None:
            parsed = outcome.parsed
            part.message_id = parsed.envelope.message_id
            part.received_at = parsed.envelope.received_at
            part.attachment_name = part.attachment_name or parsed.envelope.attachment_name
            parsed.extra.update(raw_sha256=sha256, part_index=outcome.part_index)
            try:
                part.rows = rows_for(parsed)
                part.loadable = True
                part.report_key = parsed.report_key
                part.content_sha256 = parsed.content_sha256
            except Rejected as exc:
                part.reason_code, part.detail = exc.code, exc.detail
            except Exception as exc:  # same: contain bugs to this payload
                part.reason_code, part.detail = "internal_error", repr(exc)[:500]
        else:
            assert outcome.rejected is not None
            part.reason_code, part.detail = outcome.rejected.code, outcome.rejected.detail
        result.parts.append(part)
    return result


@dataclass
class ChunkResult:
    """A worker's answer for a chunk: the per-input results, and the rows of every parsed report
    as Arrow tables (built here, in parallel, rather than in the single committing process)."""

    results: list[InputResult]
    tables: dict[str, pa.Table]


def process_chunk(refs: list[InputRef], keep_bytes: bool = True) -> ChunkResult:
    results = [process_input(ref, keep_bytes) for ref in refs]
    rows: dict[str, list[dict[str, Any]]] = {"reports": [], "policies": [], "failure_details": []}
    parts: dict[str, list[int]] = {name: [] for name in rows}
    part_id = 0
    for result in results:
        for part in result.parts:
            part.part_id = part_id
            if part.rows is not None:
                report_row, policy_rows, detail_rows = part.rows
                part.report_date = report_row["report_date"].isoformat()
                for name, new in (("reports", [report_row]), ("policies", policy_rows), ("failure_details", detail_rows)):
                    rows[name].extend(new)
                    parts[name].extend([part_id] * len(new))
                part.rows = None  # travels as Arrow below, not as pickled dicts
            part_id += 1
    return ChunkResult(results, {name: frames.table(name, rows[name], parts[name]) for name in rows})
