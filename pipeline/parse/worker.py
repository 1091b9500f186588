"""The per-input work, run in worker processes: read, hash, extract, flatten.

Everything here is pure per input, so it parallelises across cores (parsing is embarrassingly
parallel). What goes back to the committing process is Arrow IPC buffers (see ChunkResult),
never pickled Python objects: unpickling those cost that single process more than parsing.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache

import orjson
import pyarrow as pa

from pipeline.intake.dkim_check import Verifier, make_resolver
from pipeline.intake.sources import (
    InputRef,
    IsMbox,
    is_multi_message_mbox,
    read_input,
    read_message_runs,
    shown,
)
from pipeline.parse import frames
from pipeline.parse.envelope import Envelope
from pipeline.parse.extract import extract
from pipeline.parse.flatten import Row, rows_for
from pipeline.parse.rejection import Rejected

ROW_TABLES = ("reports", "policies", "failure_details")
_REPORT_DATE = frames.SCHEMAS["reports"].names.index("report_date")  # where it sits in a report row


@dataclass(slots=True)
class PartResult:
    part_index: int
    attachment_name: str | None = None
    message_id: str | None = None
    received_at: datetime | None = None
    report_key: str | None = None
    content_sha256: str | None = None
    rows: tuple[Row, list[Row], list[Row]] | None = None  # flatten.rows_for's, trust columns added
    reason_code: str | None = None
    detail: str | None = None


@dataclass(slots=True)
class InputResult:
    ref: InputRef
    is_mbox: bool = False
    sha256: str | None = None
    size: int | None = None
    kind: str | None = None
    data: bytes | None = None
    received_at: datetime | None = None
    dkim: dict | None = None
    parts: list[PartResult] = field(default_factory=list)


@dataclass
class ChunkResult:
    """A worker's answer for a chunk of inputs, as Arrow tables in IPC form: `inputs` (one row per
    input, with its raw bytes), `parts` (one row per report payload or refusal) and the rows of
    every parsed report (`reports`, `policies`, `failure_details`, tagged with their part id)."""

    ipc: dict[str, bytes]
    mboxes: list[str]
    _tables: dict[str, pa.Table] = field(default_factory=dict, repr=False)

    def table(self, name: str) -> pa.Table:
        if name not in self._tables:
            self._tables[name] = frames.from_ipc(self.ipc[name])
        return self._tables[name]


_verifiers: dict[str, Verifier] = {}  # per worker process: one DNS cache per resolver


def _dkim_verdict(ref: InputRef, data: bytes, outcomes, dns_server: str) -> dict | None:
    """The verdict taken at first arrival (replays reuse the recorded one)."""
    if ref.dkim is not None:
        return ref.dkim
    envelope = next((o.parsed.envelope for o in outcomes if o.parsed is not None), None)
    if dns_server not in _verifiers:
        _verifiers[dns_server] = Verifier(make_resolver(dns_server or None))
    from_domain = envelope.from_address.rsplit("@", 1)[-1] if envelope and envelope.from_address else None
    return _verifiers[dns_server].verify(data, envelope.submitter if envelope else None, from_domain).as_dict()


def trust_of(dkim: dict | None) -> str:
    """How far the sender of a report is established: only a verified DKIM signature says who sent it."""
    if dkim is None:
        return "unauthenticated"  # posted over HTTPS, or a plain file: nothing vouches for the sender
    return {"pass": "dkim_verified", "none": "unsigned_mail"}.get(dkim["result"], "dkim_failed")


def _dkim_columns(dkim: dict | None) -> tuple:
    """The reports columns that say who vouches for the report (dkim_result, dkim_domain,
    dkim_aligned, dkim_key_tlsrpt, trust: the last of frames.SCHEMAS["reports"])."""
    if dkim is None:
        return _NO_DKIM
    return (dkim["result"], dkim["domain"], dkim["aligned"], dkim["key_tlsrpt"], trust_of(dkim))


_NO_DKIM = (None, None, None, None, trust_of(None))


def _refused(ref: InputRef, exc: Rejected) -> InputResult:
    # An input refused unread has no bytes and no mtime; a known arrival time (an IMAP refusal
    # record's, a replayed one's) is kept.
    received = datetime.fromisoformat(ref.received_at) if ref.received_at else None
    return InputResult(ref, received_at=received, parts=[PartResult(0, received_at=received, reason_code=exc.code, detail=exc.detail)])


@lru_cache(maxsize=16)
def _run_time(mtime: float) -> datetime:
    """The arrival time of a message read with its mbox run: the run's messages share the file's
    time, and making the datetime was ~0.4 us a message."""
    return datetime.fromtimestamp(mtime, tz=timezone.utc)


def process_input(ref: InputRef, keep_bytes: bool = True, dns_server: str = "", dkim_policy: str = "record",
                  read: tuple[bytes, float] | None = None) -> InputResult:
    """`read`: the input's (bytes, mtime) when the caller has read them (an mbox message read
    with its neighbours, see read_message_runs)."""
    if ref.verdict is not None:  # replaying an input whose bytes were never kept
        return _refused(ref, Rejected(ref.verdict[0], ref.verdict[1] or ""))
    try:
        data, mtime = read if read is not None else read_input(ref)
    except IsMbox:
        return InputResult(ref, is_mbox=True)
    except Rejected as exc:
        return _refused(ref, exc)
    if ref.length < 0 and is_multi_message_mbox(data):
        return InputResult(ref, is_mbox=True)
    if ref.received_at:
        received = datetime.fromisoformat(ref.received_at)
    elif read is not None:
        received = _run_time(mtime)
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
    if kind in ("mail", "mbox"):
        result.dkim = _dkim_verdict(ref, data, outcomes, dns_server)
    refuse_unverified = dkim_policy == "require" and result.dkim is not None and result.dkim["result"] != "pass"
    for outcome in outcomes:
        part = PartResult(outcome.part_index, attachment_name=outcome.attachment_name, received_at=received)
        if outcome.parsed is not None:
            parsed = outcome.parsed
            part.message_id = parsed.envelope.message_id
            part.received_at = parsed.envelope.received_at
            part.attachment_name = part.attachment_name or parsed.envelope.attachment_name
            parsed.extra.update(raw_sha256=sha256, part_index=outcome.part_index)
            try:
                if refuse_unverified:
                    raise Rejected("dkim_required", f"DKIM {result.dkim['result']}: {result.dkim.get('detail') or 'unsigned'}")
                report_row, policy_rows, detail_rows = rows_for(parsed)
                part.rows = (report_row + _dkim_columns(result.dkim), policy_rows, detail_rows)
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


def worker_died(ref: InputRef, detail: str) -> ChunkResult:
    """The answer for an input whose parser process died on it twice: quarantined. Its bytes
    are read here (reading is defensive and cheap; parsing is what died) and landed, so a
    fixed parser can load it from the landing zone."""
    result = _refused(ref, Rejected("worker_died", detail))
    try:
        data, mtime = read_input(ref)
    except (Rejected, IsMbox):
        return _assemble([result])
    result.sha256, result.size, result.data = hashlib.sha256(data).hexdigest(), len(data), data
    if result.received_at is None:
        result.received_at = result.parts[0].received_at = datetime.fromtimestamp(mtime, tz=timezone.utc)
    return _assemble([result])


def process_chunk(refs: list[InputRef], keep_bytes: bool = True, dns_server: str = "", dkim_policy: str = "record") -> ChunkResult:
    results = [process_input(ref, keep_bytes, dns_server, dkim_policy, read)
               for ref, read in zip(refs, read_message_runs(refs))]
    try:
        return _assemble(results)
    except Exception:  # a value no column holds: find its input, so that it costs only itself
        return _assemble([_storable(result) for result in results])


def _storable(result: InputResult) -> InputResult:
    """The input as it is when its rows convert on their own, else all its parts quarantined
    (the raw bytes are kept, so a fixed parser can load it again from the landing zone)."""
    try:
        _assemble([result])
        return result
    except Exception as exc:
        detail = f"a value could not be stored: {exc!r}"[:500]
        result.parts = [PartResult(part.part_index, reason_code="internal_error", detail=detail)
                        for part in result.parts or [PartResult(0)]]
        return result


def _assemble(results: list[InputResult]) -> ChunkResult:
    # Every row is a tuple in the column order of frames.SCHEMAS (see there).
    inputs: list[tuple] = []
    parts: list[tuple] = []
    # Each core table's rows and the part id of each row, one pair of lists per table, filled
    # without a loop over the tables per part (that loop cost ~1 us a report).
    reports, policies, details = rows = tuple([] for _ in ROW_TABLES)
    report_tags, policy_tags, detail_tags = tags = tuple([] for _ in ROW_TABLES)
    mboxes = [r.ref.path for r in results if r.is_mbox]
    for result in (r for r in results if not r.is_mbox):
        number = len(inputs)
        ref, received = result.ref, result.received_at
        inputs.append((
            number, os.fsencode(ref.path), ref.channel, shown(ref.origin), result.sha256, result.size, result.kind, received,
            received.isoformat() if received else ref.received_at,
            orjson.dumps(result.dkim).decode() if result.dkim is not None else None,
            result.data,
        ))
        for part in result.parts:
            part_id = len(parts)
            report_date = None
            if part.rows is not None:
                report_row, policy_rows, detail_rows = part.rows
                report_date = report_row[_REPORT_DATE].isoformat()
                reports.append(report_row)
                report_tags.append(part_id)
                policies.extend(policy_rows)
                policy_tags.extend([part_id] * len(policy_rows))
                if detail_rows:
                    details.extend(detail_rows)
                    detail_tags.extend([part_id] * len(detail_rows))
            parts.append((
                number, part_id, part.part_index, part.attachment_name, part.message_id,
                part.received_at or received, part.report_key, part.content_sha256, report_date,
                part.rows is not None, part.reason_code, part.detail,
            ))
    ipc = {name: frames.to_ipc(frames.table(name, table_rows, table_tags))
           for name, table_rows, table_tags in zip(ROW_TABLES, rows, tags)}
    ipc["inputs"] = frames.to_ipc(frames.table("inputs", inputs))
    ipc["parts"] = frames.to_ipc(frames.table("parts", parts))
    return ChunkResult(ipc, mboxes)
