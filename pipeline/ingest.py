"""Ingest inputs into the warehouse: the one code path behind `tlsrpt ingest` and the assets.

Workers (one per core) read, land and parse inputs; this process batches their results and
commits each batch (batch.py). At most a few chunks are in flight, so memory stays bounded
however many inputs there are. Before new work, journal batches that a killed run landed but
never committed are replayed, so a crash at any point loses nothing.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

from pipeline import landing, parquet_export
from pipeline.batch import BatchOutcome, commit_batch
from pipeline.settings import Settings
from pipeline.sources import InputRef, mbox_messages, walk
from pipeline.warehouse import committed_batches, connect, writer_lock
from pipeline.worker import ChunkResult, InputResult, PartResult, process_chunk

CHUNK_INPUTS = 200  # inputs per worker task: big enough to amortise pickling, small for progress


@dataclass
class IngestSummary:
    inputs: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    replayed_batches: int = 0
    seconds: float = 0.0

    def add(self, batch: BatchOutcome) -> None:
        self.inputs += batch.inputs
        self.loaded += batch.loaded
        self.duplicates += batch.duplicates
        self.quarantined.update(batch.quarantined)


def new_batch_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(4)


def _chunks(refs: Iterable[InputRef]) -> Iterator[list[InputRef]]:
    iterator = iter(refs)
    while chunk := list(islice(iterator, CHUNK_INPUTS)):
        yield chunk


def _process_all(refs: Iterable[InputRef], data_dir: Path, pool) -> Iterator[ChunkResult]:
    """Chunk results in input order; mbox files found on the way are split and processed after."""
    sources: deque[Iterable[InputRef]] = deque([refs])
    work = partial(process_chunk, data_dir=data_dir)
    while sources:
        mboxes: list[str] = []
        chunks = _chunks(sources.popleft())
        if pool is None:
            results_iter: Iterable[ChunkResult] = map(work, chunks)
        else:
            results_iter = _bounded_imap(pool, work, chunks, window=4 * (pool._processes or 1))
        for chunk in results_iter:
            mboxes.extend(result.ref.path for result in chunk.results if result.is_mbox)
            chunk.results = [result for result in chunk.results if not result.is_mbox]
            yield chunk
        sources.extend(mbox_messages(path) for path in mboxes)


def _bounded_imap(pool, work, chunks, window: int):
    pending: deque = deque()
    for chunk in chunks:
        pending.append(pool.apply_async(work, (chunk,)))
        if len(pending) >= window:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


def _batches(chunks: Iterator[ChunkResult], batch_parts: int) -> Iterator[list[ChunkResult]]:
    batch: list[ChunkResult] = []
    parts = 0
    for chunk in chunks:
        batch.append(chunk)
        parts += sum(max(1, len(result.parts)) for result in chunk.results)
        if parts >= batch_parts:
            yield batch
            batch, parts = [], 0
    if batch:
        yield batch


def _replay_refs(settings: Settings, arrivals: list[landing.Arrival]) -> Iterator[InputRef]:
    for arrival in arrivals:
        path = str(settings.data_dir / arrival.object_path) if arrival.object_path else ""
        yield InputRef(path or arrival.origin, arrival.channel, arrival.origin, received_at=arrival.received_at)


def _pool(workers: int):
    if workers <= 1:
        return None
    # fork: workers inherit the imported modules for free; created before any DuckDB connection.
    return multiprocessing.get_context("fork").Pool(workers)


def ingest(
    paths: list[Path],
    settings: Settings,
    progress: Callable[[int], None] | None = None,
    replay_only: bool = False,
    committed_paths: set[str] | None = None,
) -> IngestSummary:
    """Land, parse and load every input under `paths`; return what happened to them.

    `committed_paths`, when given, receives the path of every input whose batch is committed
    (the drop folder moves exactly those, never a file that arrived during the run)."""
    started = time.monotonic()
    summary = IngestSummary()
    with writer_lock(settings.data_dir):
        landing.sweep_strays(settings.data_dir)
        pool = _pool(settings.workers)
        try:
            con = connect(settings.db_path)
            try:
                summary.replayed_batches = replay_pending(con, settings, pool, summary, progress)
                if not replay_only:
                    for batch in _batches(_process_all(walk(paths), settings.data_dir, pool), settings.batch_parts):
                        now = datetime.now(timezone.utc)
                        summary.add(commit_batch(con, settings.data_dir, new_batch_id(now), batch, now))
                        if committed_paths is not None:
                            committed_paths.update(r.ref.path for chunk in batch for r in chunk.results)
                        if progress:
                            progress(sum(len(chunk.results) for chunk in batch))
                parquet_export.export_dirty(con, settings.parquet_dir)
                con.execute("checkpoint")
            finally:
                con.close()
        finally:
            if pool is not None:
                pool.close()
                pool.join()
    summary.seconds = time.monotonic() - started
    return summary


def replay_pending(con, settings: Settings, pool, summary: IngestSummary, progress=None) -> int:
    """Commit journal batches that are on disk but not in the tables (a crash, or a rebuild)."""
    done = committed_batches(con)
    replayed = 0
    for batch_id, path in landing.journal_batches(settings.data_dir):
        if batch_id in done:
            continue
        arrivals = landing.read_journal(path)
        kept = [a for a in arrivals if a.object_path]
        chunks = list(_process_all(_replay_refs(settings, kept), settings.data_dir, pool))
        parsed = iter(result for chunk in chunks for result in chunk.results)
        refused = []
        for seq, arrival in enumerate(arrivals):
            ref = InputRef(arrival.origin, arrival.channel, arrival.origin, received_at=arrival.received_at)
            if arrival.object_path:
                result = next(parsed)
                result.ref, result.seq = ref, seq
            else:  # the bytes were never kept (unreadable, too large): replay the verdict
                part = PartResult(0, reason_code=arrival.reason_code, detail=arrival.detail)
                refused.append(InputResult(ref, seq=seq, size=arrival.size, parts=[part]))
        if refused:
            chunks.append(ChunkResult(refused, {}))
        results = [result for chunk in chunks for result in chunk.results]
        ingested_at = datetime.fromisoformat(arrivals[0].ingested_at) if arrivals else datetime.now(timezone.utc)
        summary.add(commit_batch(con, settings.data_dir, batch_id, chunks, ingested_at, write_journal_file=False))
        replayed += 1
        if progress:
            progress(len(results))
    return replayed
