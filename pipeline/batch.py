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

from pipeline import PARSER_VERSION
from pipeline.frames import frame
from pipeline.landing import Arrival, sync_filesystem, write_journal
from pipeline.warehouse import insert_frames, known_reports, mark_dirty
from pipeline.worker import InputResult


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


def commit_batch(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    batch_id: str,
    results: list[InputResult],
    ingested_at: datetime,
    write_journal_file: bool = True,
) -> BatchOutcome:
    if write_journal_file:
        # Objects must be on disk before the journal names them, and the journal before the rows.
        sync_filesystem(data_dir)
        write_journal(data_dir, batch_id, [arrival_of(r, ingested_at) for r in results])
    keys = sorted({p.report_key for r in results for p in r.parts if p.report_key})
    loaded_content = known_reports(con, keys)
    outcome = BatchOutcome(inputs=len(results))
    tables: dict[str, list] = {"reports": [], "policies": [], "failure_details": [], "deliveries": []}
    loaded_raw: dict[str, str] = {}  # report_key -> raw sha of the loaded copy, within this batch
    dirty_dates: set[str] = set()
    for number, result in enumerate(results):
        for part in result.parts:
            status, reason, detail = "quarantined", part.reason_code, part.detail
            if part.report_key is not None and part.rows is not None:
                key = part.report_key
                if key in loaded_content:
                    status = "duplicate"
                    if loaded_raw.get(key) == result.sha256:
                        reason, detail = "same_bytes", "the same input bytes were already loaded"
                    elif loaded_content[key] == part.content_sha256:
                        reason, detail = "same_report", "the same report was already loaded"
                    else:
                        reason = "same_key_different_content"
                        detail = "organization and report-id match a loaded report whose content differs; the first copy is kept, both raw inputs are stored"
                    outcome.duplicates += 1
                else:
                    status, reason, detail = "loaded", None, None
                    loaded_content[key] = part.content_sha256 or ""
                    loaded_raw[key] = result.sha256 or ""
                    report_row, policy_rows, detail_rows = part.rows
                    tables["reports"].append(report_row)
                    tables["policies"].extend(policy_rows)
                    tables["failure_details"].extend(detail_rows)
                    dirty_dates.add(report_row["report_date"].isoformat())
                    outcome.loaded += 1
            else:
                outcome.quarantined[reason or "internal_error"] += 1
            tables["deliveries"].append(
                {
                    "delivery_id": f"{batch_id}:{number}:{part.part_index}",
                    "batch_id": batch_id,
                    "ingested_at": ingested_at,
                    "ingested_date": ingested_at.date(),
                    "received_at": part.received_at or result.received_at,
                    "channel": result.ref.channel,
                    "origin": result.ref.origin,
                    "part_index": part.part_index,
                    "attachment_name": part.attachment_name,
                    "message_id": part.message_id,
                    "raw_sha256": result.sha256,
                    "raw_size": result.size,
                    "raw_kind": result.kind,
                    "raw_path": result.object_path,
                    "outcome": status,
                    "reason_code": reason,
                    "detail": detail,
                    "report_key": part.report_key,
                    "parser_version": PARSER_VERSION,
                }
            )
    frames = {name: frame(name, rows) for name, rows in tables.items()}
    con.execute("begin transaction")
    try:
        insert_frames(con, frames)
        con.execute(
            "insert into ingest_batches values (?, now(), ?, ?, ?, ?)",
            [batch_id, outcome.inputs, outcome.loaded, outcome.duplicates, sum(outcome.quarantined.values())],
        )
        for table in ("reports", "policies", "failure_details"):
            mark_dirty(con, table, dirty_dates)
        mark_dirty(con, "deliveries", {ingested_at.date().isoformat()})
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return outcome
