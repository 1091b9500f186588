"""Commit one batch of processed inputs: pack durable -> one DB transaction.

Deduplication happens here, in arrival order: a report whose key (organization + report-id) is
already loaded, or appeared earlier in the batch, becomes a `duplicate` delivery; the reason
says whether the bytes, the decoded report or only the key matched (DOMAIN.md section 9).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import PARSER_VERSION, frames
from pipeline.landing import Arrival, pack_relpath, write_pack
from pipeline.warehouse import insert_tables, known_objects, known_reports, mark_dirty
from pipeline.worker import ChunkResult, InputResult, PartResult


@dataclass
class BatchOutcome:
    inputs: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)


def arrival_of(result: InputResult, ingested_at: datetime) -> Arrival:
    received = result.received_at.isoformat() if result.received_at else result.ref.received_at
    unread = result.sha256 is None  # refused before reading: the pack keeps the verdict instead
    return Arrival(
        sha256=result.sha256,
        size=result.size or 0,
        kind=result.kind or "",
        channel=result.ref.channel,
        origin=result.ref.origin,
        received_at=received,
        ingested_at=ingested_at.isoformat(),
        reason_code=result.parts[0].reason_code if unread else None,
        detail=result.parts[0].detail if unread else None,
    )


def _land(con, data_dir: Path, batch_id: str, results: list[InputResult], ingested_at: datetime) -> dict[str, int]:
    """Write the batch's pack: every arrival, plus the bytes of inputs no earlier pack holds."""
    shas = sorted({r.sha256 for r in results if r.sha256})
    stored = known_objects(con, shas)
    entries = []
    for result in results:
        data = None
        if result.sha256 and result.sha256 not in stored and result.data is not None:
            data = result.data
            stored.add(result.sha256)
        entries.append((arrival_of(result, ingested_at), data))
    return write_pack(data_dir, batch_id, entries)


def _duplicate_reason(part: PartResult, result: InputResult, content: str, raw: str | None) -> tuple[str, str]:
    if raw is not None and raw == result.sha256:
        return "same_bytes", "the same input bytes were already loaded"
    if content == part.content_sha256:
        return "same_report", "the same report was already loaded"
    return (
        "same_key_different_content",
        "organization and report-id match a loaded report whose content differs; the first copy is kept, both raw inputs are stored",
    )


def _delivery(batch_id: str, seq: int, result: InputResult, part: PartResult, ingested_at: datetime,
              outcome: str, reason: str | None, detail: str | None) -> dict:
    return {
        "delivery_id": f"{batch_id}:{seq}:{part.part_index}", "batch_id": batch_id,
        "ingested_at": ingested_at, "ingested_date": ingested_at.date(),
        "received_at": part.received_at or result.received_at, "channel": result.ref.channel,
        "origin": result.ref.origin, "part_index": part.part_index, "attachment_name": part.attachment_name,
        "message_id": part.message_id, "raw_sha256": result.sha256, "raw_size": result.size,
        "raw_kind": result.kind, "outcome": outcome, "reason_code": reason,
        "detail": detail, "report_key": part.report_key, "parser_version": PARSER_VERSION,
    }


def commit_batch(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    batch_id: str,
    chunks: list[ChunkResult],
    ingested_at: datetime,
    packed_offsets: dict[str, int] | None = None,
) -> BatchOutcome:
    """Land (unless replaying a pack: then `packed_offsets` says where its objects are) and
    commit one batch. The pack is durable before the rows that depend on it are committed."""
    results = [result for chunk in chunks for result in chunk.results]
    offsets = packed_offsets if packed_offsets is not None else _land(con, data_dir, batch_id, results, ingested_at)
    sizes_kinds = {r.sha256: (r.size, r.kind) for r in results if r.sha256}
    objects = [
        {"raw_sha256": sha, "pack_path": pack_relpath(batch_id), "byte_offset": offset,
         "byte_size": sizes_kinds[sha][0], "raw_kind": sizes_kinds[sha][1], "batch_id": batch_id}
        for sha, offset in offsets.items() if sha in sizes_kinds
    ]
    keys = sorted({p.report_key for r in results for p in r.parts if p.loadable and p.report_key})
    loaded_content = known_reports(con, keys)
    loaded_raw: dict[str, str | None] = {}  # report_key -> raw sha of the copy loaded in this batch
    outcome = BatchOutcome(inputs=len(results))
    deliveries: list[dict] = []
    dirty_dates: set[str] = set()
    new_tables: dict[str, list[pa.Table]] = {"reports": [], "policies": [], "failure_details": []}
    seq = 0
    for chunk in chunks:
        loaded_parts: list[int] = []
        for result in chunk.results:
            number = result.seq if result.seq is not None else seq
            seq += 1
            for part in result.parts:
                reason, detail = part.reason_code, part.detail
                if part.loadable and part.report_key:
                    key = part.report_key
                    if key in loaded_content:
                        status = "duplicate"
                        reason, detail = _duplicate_reason(part, result, loaded_content[key], loaded_raw.get(key))
                        outcome.duplicates += 1
                    else:
                        status, reason, detail = "loaded", None, None
                        loaded_content[key], loaded_raw[key] = part.content_sha256 or "", result.sha256
                        loaded_parts.append(part.part_id)
                        dirty_dates.add(part.report_date or "")
                        outcome.loaded += 1
                else:
                    status = "quarantined"
                    reason = reason or "internal_error"
                    outcome.quarantined[reason] += 1
                deliveries.append(_delivery(batch_id, number, result, part, ingested_at, status, reason, detail))
        if loaded_parts:
            wanted = pa.array(loaded_parts, type=pa.int32())
            for name, rows in chunk.tables.items():
                keep = rows.filter(pc.is_in(rows[frames.PART_COLUMN], value_set=wanted))
                new_tables[name].append(keep.drop_columns([frames.PART_COLUMN]))
    tables = {name: pa.concat_tables(parts) for name, parts in new_tables.items() if parts}
    tables["deliveries"] = frames.table("deliveries", deliveries)
    tables["raw_objects"] = frames.table("raw_objects", objects)
    con.execute("begin transaction")
    try:
        insert_tables(con, tables)
        con.execute(
            "insert into ingest_batches values (?, now(), ?, ?, ?, ?)",
            [batch_id, outcome.inputs, outcome.loaded, outcome.duplicates, sum(outcome.quarantined.values())],
        )
        for name in ("reports", "policies", "failure_details"):
            mark_dirty(con, name, dirty_dates)
        mark_dirty(con, "deliveries", {ingested_at.date().isoformat()})
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return outcome
