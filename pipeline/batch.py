"""Commit one batch of processed inputs: landing durable -> journal -> one DB transaction.

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
from pipeline.landing import Arrival, sync_filesystem, write_journal
from pipeline.warehouse import insert_tables, known_reports, mark_dirty
from pipeline.worker import ChunkResult, InputResult, PartResult


@dataclass
class BatchOutcome:
    inputs: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)


def arrival_of(result: InputResult, ingested_at: datetime) -> Arrival:
    received = result.received_at.isoformat() if result.received_at else result.ref.received_at
    return Arrival(
        sha256=result.sha256 or "",
        size=result.size or 0,
        kind=result.kind or "",
        channel=result.ref.channel,
        origin=result.ref.origin,
        received_at=received,
        ingested_at=ingested_at.isoformat(),
        object_path=result.object_path,
        reason_code=None if result.object_path else result.parts[0].reason_code,
        detail=None if result.object_path else result.parts[0].detail,
    )


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
        "raw_kind": result.kind, "raw_path": result.object_path, "outcome": outcome, "reason_code": reason,
        "detail": detail, "report_key": part.report_key, "parser_version": PARSER_VERSION,
    }


def commit_batch(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    batch_id: str,
    chunks: list[ChunkResult],
    ingested_at: datetime,
    write_journal_file: bool = True,
) -> BatchOutcome:
    results = [result for chunk in chunks for result in chunk.results]
    if write_journal_file:
        # Objects must be on disk before the journal names them, and the journal before the rows.
        sync_filesystem(data_dir)
        write_journal(data_dir, batch_id, [arrival_of(r, ingested_at) for r in results])
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
