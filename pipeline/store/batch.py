"""Commit one batch of processed inputs: its pack durable -> one DB transaction.

Deduplication happens here, in arrival order: a report whose key (organization + report-id) is
already loaded (known_keys.RunKeys: on a shared catalog the lake is asked per batch), or
appeared earlier in the run, becomes a `duplicate` delivery; the reason says whether the bytes,
the decoded report or only the key matched. Two writers may still both load one report at the same moment: the staging models
keep the first copy (docs/architecture.md, "Exactly once across writers").
Workers hand over Arrow tables (worker.ChunkResult); this process only walks the few columns
that decisions need and assembles the rest column-wise.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import PARSER_VERSION
from pipeline.parse import frames
from pipeline.parse.worker import ROW_TABLES, ChunkResult
from pipeline.store.known_keys import RunKeys
from pipeline.store.lake import in_transaction
from pipeline.store.landing import pack_relpath, write_pack
from pipeline.store.warehouse import insert_tables

SAME_KEY_DIFFERENT = (
    "organization and report-id match a loaded report whose content differs; "
    "the first copy is kept, both raw inputs are stored"
)


@dataclass
class BatchOutcome:
    inputs: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)


@dataclass
class _Decisions:
    """Per part of the batch: outcome, reason, detail; and which part ids of each chunk load."""

    outcome: list[str] = field(default_factory=list)
    reason: list[str | None] = field(default_factory=list)
    detail: list[str | None] = field(default_factory=list)
    loaded_parts: list[list[int]] = field(default_factory=list)
    all_loadable_loaded: list[bool] = field(default_factory=list)
    dirty_dates: set[str] = field(default_factory=set)


def _decide(known: RunKeys, chunks_parts: list[pa.Table], chunk_inputs: list[pa.Table], result: BatchOutcome) -> _Decisions:
    loaded_content = known.reports  # updated in place: committed below, or the run fails
    loaded_raw: dict[str, str | None] = {}  # report_key -> raw sha of the copy loaded in this batch
    decisions = _Decisions()
    for parts, inputs in zip(chunks_parts, chunk_inputs):
        shas = inputs["sha256"].to_pylist()
        loaded_here: list[int] = []
        columns = [parts[name].to_pylist() for name in (
            "input_no", "part_id", "report_key", "content_sha256", "loadable", "reason_code", "detail", "report_date")]
        for number, part_id, key, content, loadable, reason, detail, report_date in zip(*columns):
            if loadable and key:
                if key in loaded_content:
                    result.duplicates += 1
                    decisions.outcome.append("duplicate")
                    if loaded_raw.get(key) is not None and loaded_raw[key] == shas[number]:
                        reason, detail = "same_bytes", "the same input bytes were already loaded"
                    elif loaded_content[key] == content:
                        reason, detail = "same_report", "the same report was already loaded"
                    else:
                        reason, detail = "same_key_different_content", SAME_KEY_DIFFERENT
                else:
                    result.loaded += 1
                    decisions.outcome.append("loaded")
                    reason = detail = None
                    loaded_content[key], loaded_raw[key] = content or "", shas[number]
                    loaded_here.append(part_id)
                    decisions.dirty_dates.add(report_date)
            else:
                reason = reason or "internal_error"
                result.quarantined[reason] += 1
                decisions.outcome.append("quarantined")
            decisions.reason.append(reason)
            decisions.detail.append(detail)
        decisions.loaded_parts.append(loaded_here)
        decisions.all_loadable_loaded.append(len(loaded_here) == sum(1 for x in parts["loadable"].to_pylist() if x))
    return decisions


_ARRIVAL_COLUMNS = ["sha256", "size", "kind", "channel", "origin", "received_at_text", "dkim_json"]


def _arrivals(inputs: pa.Table, parts: pa.Table, ingested_at: datetime) -> list[dict]:
    """One Arrival (as a dict, for the pack header) per input, built from whole columns."""
    sha, size, kind, channel, origin, received, dkim = (inputs[c].to_pylist() for c in _ARRIVAL_COLUMNS)
    unread = {seq for seq, digest in enumerate(sha) if digest is None}
    first_part: dict[int, tuple[str | None, str | None]] = {}
    if unread:
        for seq, reason, detail in zip(*(parts[c].to_pylist() for c in ("seq", "reason_code", "detail"))):
            if seq in unread:
                first_part.setdefault(seq, (reason, detail))
    stamp = ingested_at.isoformat()
    # A batch's mails carry a few verdict texts (nearly all "unsigned"): each read once. The dicts
    # are shared between arrivals, which only write_pack reads (it serialises them as they are).
    verdicts = {text: orjson.loads(text) for text in set(dkim) if text}
    arrivals = [
        {"sha256": digest, "size": length or 0, "kind": sniffed or "", "channel": how, "origin": where,
         "received_at": when, "ingested_at": stamp, "reason_code": None, "detail": None,
         "dkim": verdicts[verdict] if verdict else None}
        for digest, length, sniffed, how, where, when, verdict in zip(sha, size, kind, channel, origin, received, dkim)
    ]
    for seq, (reason, detail) in first_part.items():
        arrivals[seq]["reason_code"], arrivals[seq]["detail"] = reason, detail
    return arrivals


def _land(known: RunKeys, data_dir: Path, batch_id: str, arrivals: list[dict], blobs: list[bytes | None]) -> dict[str, int]:
    """Write the batch's pack: every arrival, plus the bytes of inputs no earlier pack holds."""
    stored = known.objects  # updated in place, like known.reports
    kept: list[bytes | None] = []
    for arrival, blob in zip(arrivals, blobs):
        sha = arrival["sha256"]
        if sha and blob is not None and sha not in stored:
            stored.add(sha)
            kept.append(blob)
        else:
            kept.append(None)
    return write_pack(data_dir, batch_id, arrivals, kept)


def _with_seq(table: pa.Table, offset: int) -> pa.Table:
    return table.append_column("seq", pc.add(table["input_no"], pa.scalar(offset, pa.int32())))


@dataclass
class PreparedBatch:
    """A batch decided and landed (its pack is durable), its rows ready to insert."""

    batch_id: str
    outcome: BatchOutcome
    tables: dict[str, pa.Table]
    dirty_dates: set[str]  # the report dates the batch added rows to


def prepare_batch(
    known: RunKeys,
    data_dir: Path,
    batch_id: str,
    chunks: list[ChunkResult],
    ingested_at: datetime,
    packed_offsets: dict[str, int] | None = None,
) -> PreparedBatch:
    """Decide every arrival of the batch, land it (unless replaying a pack: then
    `packed_offsets` says where its objects are) and build the rows to insert. No database
    work but the lookup of the batch's keys, on a cursor of its own: ingest overlaps this with
    the previous batch's insert (write_batch)."""
    chunk_inputs, chunk_parts, offset = [], [], 0
    for chunk in chunks:
        chunk_inputs.append(_with_seq(chunk.table("inputs"), offset))
        chunk_parts.append(_with_seq(chunk.table("parts"), offset))
        offset += chunk_inputs[-1].num_rows
    inputs, parts = pa.concat_tables(chunk_inputs), pa.concat_tables(chunk_parts)
    result = BatchOutcome(inputs=inputs.num_rows)
    known.for_batch(parts, inputs["sha256"].to_pylist())
    decisions = _decide(known, chunk_parts, chunk_inputs, result)
    if packed_offsets is None:
        packed_offsets = _land(known, data_dir, batch_id, _arrivals(inputs, parts, ingested_at), inputs["data"].to_pylist())
    else:
        known.objects.update(packed_offsets)

    tables: dict[str, list[pa.Table]] = {name: [] for name in ROW_TABLES}
    for chunk, wanted, everything in zip(chunks, decisions.loaded_parts, decisions.all_loadable_loaded):
        if wanted:
            ids = pa.array(wanted, type=pa.int32())
            for name in ROW_TABLES:
                rows = chunk.table(name)
                if not everything:  # usual case: every parsed report of the chunk is new
                    rows = rows.filter(pc.is_in(rows[frames.PART_COLUMN], value_set=ids))
                tables[name].append(rows.drop_columns([frames.PART_COLUMN]))
    batch_tables = {name: _loaded_by(pa.concat_tables(found), batch_id) for name, found in tables.items() if found}
    batch_tables["deliveries"] = _deliveries(batch_id, inputs, parts, decisions, ingested_at)
    batch_tables["raw_objects"] = _raw_objects(batch_id, inputs, packed_offsets)
    return PreparedBatch(batch_id, result, batch_tables, decisions.dirty_dates)


def write_batch(con: duckdb.DuckDBPyConnection, batch: PreparedBatch) -> BatchOutcome:
    """Insert a prepared batch in one lake transaction (one snapshot): its rows, its deliveries
    and its pack's id commit together or not at all, and again if a concurrent writer's commit
    came first."""
    result = batch.outcome

    def insert(con: duckdb.DuckDBPyConnection) -> None:
        insert_tables(con, batch.tables)
        con.execute(
            "insert into ingest_batches values (?, now(), ?, ?, ?, ?)",
            [batch.batch_id, result.inputs, result.loaded, result.duplicates, sum(result.quarantined.values())],
        )

    in_transaction(con, insert)
    return result


def _loaded_by(rows: pa.Table, batch_id: str) -> pa.Table:
    """The row table with the batch that loads it (reports.batch_id and the like): staging keeps
    one row per report key by it when two writers loaded the same report at once."""
    return rows.append_column("batch_id", pa.array([batch_id] * rows.num_rows, pa.string()))


def _deliveries(batch_id: str, inputs: pa.Table, parts: pa.Table, decisions: _Decisions, ingested_at: datetime) -> pa.Table:
    seqs = parts["seq"]
    # seq is the row number in `inputs`; only the columns used (not the raw bytes) are taken
    of_input = inputs.select(["channel", "origin", "sha256", "size", "kind"]).take(seqs)
    n = parts.num_rows
    # '<batch>:<seq>:<part_index>', joined in C (an f-string per part cost ~2 us of this process's time)
    ids = pc.binary_join_element_wise(batch_id, pc.cast(seqs, pa.string()), pc.cast(parts["part_index"], pa.string()), ":")
    columns = {
        "delivery_id": ids,
        "batch_id": pa.array([batch_id] * n, pa.string()),
        "ingested_at": pa.array([ingested_at] * n, frames.UTC_TIME),
        "ingested_date": pa.array([ingested_at.date()] * n, pa.date32()),
        "received_at": parts["received_at"],
        "channel": of_input["channel"],
        "origin": of_input["origin"],
        "part_index": parts["part_index"],
        "attachment_name": parts["attachment_name"],
        "message_id": parts["message_id"],
        "raw_sha256": of_input["sha256"],
        "raw_size": of_input["size"],
        "raw_kind": of_input["kind"],
        "outcome": pa.array(decisions.outcome, pa.string()),
        "reason_code": pa.array(decisions.reason, pa.string()),
        "detail": pa.array(decisions.detail, pa.string()),
        "report_key": parts["report_key"],
        "parser_version": pa.array([PARSER_VERSION] * n, pa.string()),
    }
    schema = frames.SCHEMAS["deliveries"]
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def _raw_objects(batch_id: str, inputs: pa.Table, offsets: dict[str, int]) -> pa.Table:
    """One row per object this batch's pack stores (or, replaying, names): where its bytes are."""
    first: dict[str, int] = {}
    for row, sha in enumerate(inputs["sha256"].to_pylist()):
        if sha in offsets and sha not in first:
            first[sha] = row
    described = inputs.select(["sha256", "size", "kind"]).take(pa.array(list(first.values()), pa.int64()))
    n = described.num_rows
    schema = frames.SCHEMAS["raw_objects"]
    return pa.Table.from_arrays([
        described["sha256"],
        pa.array([pack_relpath(batch_id)] * n, pa.string()),
        pa.array([offsets[sha] for sha in first], pa.int64()),
        described["size"],
        described["kind"],
        pa.array([batch_id] * n, pa.string()),
    ], schema=schema)
