"""Ingest inputs into the warehouse: the one code path behind `tlsrpt ingest` and the assets.

Workers (one per core) read, land and parse inputs; this process batches their results and
commits each batch (batch.py). At most a few chunks are in flight, so memory stays bounded
however many inputs there are. Before new work, packs that a killed run landed but
never committed are replayed, so a crash at any point loses nothing.
"""

from __future__ import annotations

import gc
import os
import secrets
import shutil
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from itertools import chain, islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

from pipeline.intake.inbox import archive_processed
from pipeline.intake.sources import InputRef, mbox_messages, walk
from pipeline.parse import frames, limits
from pipeline.parse.worker import ChunkResult, process_chunk, worker_died
from pipeline.pool import WorkerDied, WorkerPool
from pipeline.settings import Settings
from pipeline.store import lake, landing
from pipeline.store.batch import BatchOutcome, prepare_batch, write_batch
from pipeline.store.known_keys import RunKeys
from pipeline.store.rebuild import pre_lake_file
from pipeline.store.warehouse import (
    committed_batches,
    connect,
    object_location,
    set_aside_path,
    writer_lock,
)

BATCH_BYTES = 64 * 1024 * 1024
CHUNK_INPUTS = 500  # inputs per worker task: big enough to amortise IPC, small enough to share work


@dataclass
class IngestSummary(BatchOutcome):
    """The outcome of a whole run: the sum of its batches, plus what only a run knows."""

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


def _process_all(refs: Iterable[InputRef], pool, settings: Settings, keep_bytes: bool = True) -> Iterator[ChunkResult]:
    """Chunk results in input order; mbox files found on the way are split and processed after."""
    sources: deque[Iterable[InputRef]] = deque([refs])
    batch_parts = settings.batch_parts
    work = partial(process_chunk, keep_bytes=keep_bytes, dns_server=settings.dns_server, dkim_policy=settings.dkim_policy)
    while sources:
        mboxes: list[str] = []
        chunks = _chunks(sources.popleft())
        if pool is None:
            results_iter: Iterable[ChunkResult] = map(work, chunks)
        else:
            # Enough chunks in flight to keep the workers parsing while this process writes the
            # pack and commits (a window of 8 left them idle during commits); capped for memory.
            results_iter = _bounded_imap(pool, work, chunks, window=max(8, min(64, 2 * batch_parts // CHUNK_INPUTS)))
        for chunk in results_iter:
            mboxes.extend(chunk.mboxes)
            yield chunk
        sources.extend(mbox_messages(path) for path in mboxes)


def _bounded_imap(pool: WorkerPool, work, chunks, window: int) -> Iterator[ChunkResult]:
    pending: deque = deque()
    for chunk in chunks:
        pending.append((chunk, pool.apply_async(work, (chunk,))))
        if len(pending) >= window:
            yield from _answers(pool, work, *pending.popleft())
    while pending:
        yield from _answers(pool, work, *pending.popleft())


def _answers(pool: WorkerPool, work, refs: list[InputRef], future) -> Iterator[ChunkResult]:
    """A chunk's result. When its worker died (kill -9, the OOM killer), every input of the
    chunk gets a second try on its own in a fresh worker, so only the input that kills a worker
    again is lost to it: quarantined as worker_died, its bytes kept, and the run goes on."""
    try:
        yield future.result()
        return
    except WorkerDied:
        pass
    retries = [(ref, pool.apply_async(work, ([ref],))) for ref in refs]
    for ref, retry in retries:
        try:
            yield retry.result()
        except WorkerDied as exc:
            yield worker_died(ref, str(exc))


def _batches(chunks: Iterator[ChunkResult], batch_parts: int) -> Iterator[list[ChunkResult]]:
    """Group chunks into batches of about `batch_parts` payloads, and at most BATCH_BYTES of raw
    input (a batch's bytes are held until its pack is written)."""
    batch: list[ChunkResult] = []
    parts = size = 0
    for chunk in chunks:
        batch.append(chunk)
        parts += chunk.table("parts").num_rows
        size += len(chunk.ipc["inputs"])
        if parts >= batch_parts or size >= BATCH_BYTES:
            yield batch
            batch, parts, size = [], 0, 0
    if batch:
        yield batch


def _worker_gc() -> None:
    """A parser allocates a few dozen short-lived containers per input and makes no cycles in
    the common case: collecting the youngest generation every 10,000 allocations instead of 700
    saves 3 % of its CPU, and cycles (a refusal's traceback) are still collected."""
    gc.set_threshold(10_000, 20, 20)


def _pool(workers: int) -> WorkerPool | None:
    if workers <= 1:
        return None
    # fork: workers inherit the imported modules for free; created before any DuckDB connection.
    # freeze: the inherited heap is left out of the workers' garbage collections, which
    # otherwise walked all of it again and again (and copied its pages): ~10 % of ingest CPU.
    # Frozen here only for the fork (an ingest run keeps its own freeze): nothing of this process's
    # is kept from collection longer than its caller asked.
    # Warmed up first: pyarrow's lazy imports (pandas, 0.3 s) are then paid once, not per worker.
    frames.warm_up()
    freezing = not gc.get_freeze_count()  # an ingest run has frozen it already (_collecting_less)
    if freezing:
        gc.freeze()
    try:
        return WorkerPool(workers, initializer=_worker_gc, memory_growth=limits.MAX_WORKER_MEMORY_GROWTH)
    finally:
        if freezing:
            gc.unfreeze()


@contextmanager
def _collecting_less() -> Iterator[None]:
    """This process's garbage collection for one run: what is alive when the run starts (the
    imported modules, the caller's objects) is frozen, out of every collection, and young objects
    are collected every 10,000 allocations, as in the workers. At 1M reports the collections walked
    that heap again and again: 3.6 s of this process's CPU (2.0 s in 13 full collections). Garbage
    is collected first, so freezing keeps nothing that was already dead; the run's own cycles are
    collected as usual, and everything is put back at the end (a long-lived caller, Dagster's run
    process, collects as before). Left alone when something else froze the heap."""
    if gc.get_freeze_count():
        yield
        return
    threshold = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def ingest(
    paths: list[Path],
    settings: Settings,
    progress: Callable[[int], None] | None = None,
    replay_only: bool = False,
    committed_paths: set[str] | None = None,
    channels: dict[Path, str] | None = None,
) -> IngestSummary:
    """Land, parse and load every input under `paths`; return what happened to them.

    `committed_paths`, when given, receives the path of every input whose batch is committed
    (the drop folder moves exactly those, never a file that arrived during the run).
    Each batch is a committed lake snapshot: readers see it at once, and there is nothing to
    export or checkpoint at the end (the lake's data files are the Parquet)."""
    started = time.monotonic()
    summary = IngestSummary()
    with writer_lock(settings.data_dir), _collecting_less():
        if not replay_only and not lake.exists(settings) and pre_lake_file(settings).exists():
            raise lake.LakeUnavailable(
                f"{pre_lake_file(settings)} is the warehouse of a version before the lake: run `tlsrpt rebuild`"
                " once to move it onto the lake (the file is removed when that succeeds)")
        landing.sweep_strays(settings.data_dir)
        if not replay_only:  # a rebuild in progress keeps its copy until it has finished
            shutil.rmtree(set_aside_path(settings), ignore_errors=True)
        pool = _pool(settings.workers)
        try:
            chunks = iter(()) if replay_only else _process_all(walk(paths, channels), pool, settings)
            con, chunks = _connect_while_parsing(settings, chunks, overlap=pool is not None and not replay_only)
            try:
                known = _run_keys(con, settings)
                try:
                    summary.replayed_batches = replay_pending(con, known, settings, pool, summary, progress)
                    if not replay_only:
                        batches = _batches(chunks, settings.batch_parts)
                        _load_batches(con, known, settings, batches, summary, committed_paths, progress)
                finally:
                    known.close()
            finally:
                con.close()
        finally:
            if pool is not None:
                pool.close()
                pool.join()
    summary.seconds = time.monotonic() - started
    return summary


def _connect_while_parsing(settings: Settings, chunks: Iterator[ChunkResult], overlap: bool):
    """(connection, chunks): the lake opened while the workers parse the first chunks. Opening
    the lake costs ~0.3 s and creating a new one ~1 s, during which the workers used to wait for
    their first chunk. Only chunks parsed until the lake is open are taken here (the workers keep
    their usual window in flight), so an error opening the lake stops the run within a chunk's
    time; nothing is decided or landed before replay_pending has run, so the order of arrivals,
    which deduplication follows, is the same. Without a pool (`--workers 1`) it stays sequential."""
    if not overlap:
        return connect(settings), chunks
    parsed: list[ChunkResult] = []
    with ThreadPoolExecutor(1, thread_name_prefix="tlsrpt-connect") as opener:
        opening = opener.submit(connect, settings)
        try:
            while not opening.done() and (chunk := next(chunks, None)) is not None:
                parsed.append(chunk)
        except BaseException:
            _close_when_opened(opening)
            raise
        con = opening.result()
    return con, chain(parsed, chunks)


def _close_when_opened(opening: Future) -> None:
    try:
        opening.result().close()
    except Exception:  # the run is failing already; that error is the one to show
        pass


def _load_batches(con, known: RunKeys, settings: Settings, batches: Iterator[list[ChunkResult]],
                  summary: IngestSummary, committed_paths: set[str] | None, progress) -> None:
    """Prepare each batch (decide, land the pack) while a writer thread inserts the previous
    one: DuckDB releases the GIL, so its inserts and commits overlap this process's Python
    work instead of adding to it. One insert in flight at a time keeps batches in order, and
    the pack of a batch is always durable before its insert starts. With one worker
    (`--workers 1`) everything stays on this thread, as a profiler or a debugger wants it."""
    with ThreadPoolExecutor(1, thread_name_prefix="tlsrpt-writer") as writer:
        submit = writer.submit if settings.workers > 1 else _run_now
        in_flight: tuple[Future, list[ChunkResult]] | None = None
        for batch in batches:
            now = datetime.now(timezone.utc)
            prepared = prepare_batch(known, settings.data_dir, new_batch_id(now), batch, now)
            if in_flight is not None:
                _committed(in_flight, summary, committed_paths, progress)
            in_flight = (submit(write_batch, con, prepared), batch)
        if in_flight is not None:
            _committed(in_flight, summary, committed_paths, progress)


def _run_now(work, *args) -> Future:
    """writer.submit's answer, computed on this thread."""
    done: Future = Future()
    done.set_result(work(*args))
    return done


def _committed(in_flight, summary: IngestSummary, committed_paths: set[str] | None, progress) -> None:
    future, batch = in_flight
    summary.add(future.result())  # re-raises the insert's error, if any: the run stops there
    if committed_paths is not None:
        for chunk in batch:
            committed_paths.update(map(os.fsdecode, chunk.table("inputs")["path"].to_pylist()))
    if progress:
        progress(sum(chunk.table("inputs").num_rows for chunk in batch))


def _run_keys(con, settings: Settings) -> RunKeys:
    """How this run tells loaded reports: with a shared catalog (TLSRPT_CATALOG) by a lookup in the
    lake per batch, which sees what other machines committed; with the embedded one, which only
    this data dir's writer-locked run writes, by reading every key once (pipeline/store/known_keys.py)."""
    return RunKeys(con, per_batch=bool(settings.catalog), landing_root=settings.data_dir if settings.catalog else None)


def replay_pending(con, known: RunKeys, settings: Settings, pool, summary: IngestSummary, progress=None) -> int:
    """Commit packs that are on disk but not in the tables (a crash, or a rebuild): the pack
    lists every arrival of its batch and holds or names the bytes of each."""
    done = committed_batches(con)
    replayed = 0
    for batch_id, path in landing.pack_batches(settings.data_dir):
        if batch_id in done:
            continue
        entries = list(landing.read_pack(path))
        refs, offsets = [], {}
        for entry in entries:
            arrival = entry.arrival
            where = (str(path), entry.offset, entry.stored) if entry.offset is not None else None
            if where is None and arrival.sha256:
                found = object_location(con, arrival.sha256, settings.data_dir)
                where = (str(settings.data_dir / found[0]), found[1], found[2]) if found else None
            if entry.offset is not None and arrival.sha256:
                offsets[arrival.sha256] = entry.offset
            if where is not None:
                refs.append(InputRef(where[0], arrival.channel, arrival.origin, where[1], where[2], arrival.received_at,
                                     dkim=arrival.dkim))
            else:  # bytes never kept (unreadable, too large), or lost: replay the verdict in order
                verdict = (arrival.reason_code or "unreadable", arrival.detail or "the bytes are missing from the landing zone")
                refs.append(InputRef(arrival.origin, arrival.channel, arrival.origin, received_at=arrival.received_at, verdict=verdict))
        chunks = list(_process_all(refs, pool, settings, keep_bytes=False))
        ingested_at = datetime.fromisoformat(entries[0].arrival.ingested_at) if entries else datetime.now(timezone.utc)
        prepared = prepare_batch(known, settings.data_dir, batch_id, chunks, ingested_at, packed_offsets=offsets)
        summary.add(write_batch(con, prepared))
        replayed += 1
        if progress:
            progress(len(entries))
    return replayed


def ingest_drop_folders(settings: Settings) -> tuple[IngestSummary, int]:
    """Land and load everything waiting in the drop folders (inbox, HTTPS and IMAP spools), each
    with its channel, then move what was committed to processed/. Returns (summary, moved)."""
    folders = settings.drop_folders()
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    committed: set[str] = set()
    summary = ingest(list(folders), settings, committed_paths=committed, channels=folders)
    return summary, archive_processed(settings, committed)
