"""The ingest's process pool (pipeline/pool.py): results complete and in order, errors reach
the caller, close() finishes what is queued, and a worker that dies costs only its own task;
its workers never outlive the process that started them (issue 15, item 3)."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.ingest import _pool
from pipeline.pool import WorkerDied, WorkerPool


def _square(n: int) -> int:
    time.sleep(0.001)
    return n * n


def _fail(n: int) -> int:
    raise ValueError(f"task {n} failed")


def _die(n: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)  # what the OOM killer does
    return n


def _block(path: str) -> None:
    """Stand for a long parse: say so, then wait until the test has done its part."""
    Path(path).write_text("started")
    time.sleep(3600)


def test_results_come_back_complete_and_in_order():
    pool = _pool(2)
    try:
        pending = [pool.apply_async(_square, (n,)) for n in range(300)]
        assert [p.result(timeout=30) for p in pending] == [n * n for n in range(300)]
    finally:
        pool.close()
        pool.join()


def test_a_worker_error_reaches_the_caller():
    pool = _pool(2)
    try:
        with pytest.raises(ValueError, match="task 3 failed"):
            pool.apply_async(_fail, (3,)).result(timeout=30)
    finally:
        pool.close()
        pool.join()


def test_close_with_tasks_still_pending_finishes_them_and_returns():
    """The run stopped early (an error in the committing thread): close() + join() must not hang
    although nobody waits for the tasks left in flight."""
    pool = _pool(2)
    pending = [pool.apply_async(_square, (n,)) for n in range(200)]
    pool.close()
    joiner = threading.Thread(target=pool.join)
    joiner.start()
    joiner.join(timeout=30)
    assert not joiner.is_alive(), "pool.join() hung"
    assert all(p.done() for p in pending)


@pytest.mark.timeout(60)
def test_a_dead_worker_fails_only_its_task_and_is_replaced():
    pool = WorkerPool(2)
    try:
        before = [pool.apply_async(_square, (n,)) for n in range(20)]
        deadly = [pool.apply_async(_die, (n,)) for n in range(3)]
        after = [pool.apply_async(_square, (n,)) for n in range(20, 40)]
        assert [p.result() for p in before + after] == [n * n for n in range(40)]
        for future in deadly:
            with pytest.raises(WorkerDied, match="exit code -9"):
                future.result()
        assert pool.deaths == 3
        assert len(pool.pids) == 2 and pool.apply_async(_square, (7,)).result() == 49
    finally:
        pool.close()
        pool.join()


_ORPHAN_SCRIPT = """
import sys, time
from pathlib import Path
from pipeline.ingest import _pool
from pipeline.store.warehouse import writer_lock
from tests.unit.test_pool import _block
with writer_lock(Path(sys.argv[1])):
    pool = _pool(2)
    pool.apply_async(_block, (sys.argv[2],))  # one worker busy, the other idle
    print(*pool.pids, flush=True)
    time.sleep(3600)
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # a zombie is dead; only its parent's wait is missing


@pytest.mark.timeout(60)
def test_workers_die_with_a_killed_parent_and_never_hold_the_lock(tmp_path: Path):
    started = tmp_path / "started"
    parent = subprocess.Popen([sys.executable, "-c", _ORPHAN_SCRIPT, str(tmp_path), str(started)],
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(workers) == 2
    while not started.exists():  # the busy worker is inside its task
        time.sleep(0.01)
    with open(tmp_path / ".writer.lock", "a+") as handle:
        with pytest.raises(BlockingIOError):  # held by the parent while it lives
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        parent.kill()
        parent.wait()
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free at once: no worker holds it
    while not all(_gone(pid) for pid in workers):  # the pytest timeout is the only limit
        time.sleep(0.01)


def _allocate(mib: int) -> int:
    return len(bytearray(mib * 1024 * 1024))


@pytest.mark.timeout(60)
def test_a_worker_past_its_memory_bound_fails_its_task_with_memory_error():
    """Bounded memory per worker (issue 15, item 4): an allocation past the bound is a
    MemoryError in that task (extract turns it into input_too_large), not the OOM killer."""
    pool = WorkerPool(1, memory_growth=256 * 1024 * 1024)
    try:
        with pytest.raises(MemoryError):
            pool.apply_async(_allocate, (1024,)).result()
        assert pool.apply_async(_allocate, (64,)).result() == 64 * 1024 * 1024  # the worker lives on
        assert pool.deaths == 0
    finally:
        pool.close()
        pool.join()


def test_a_run_freezes_the_heap_it_starts_with_and_puts_the_collector_back():
    import gc

    from pipeline.ingest import _collecting_less

    before = gc.get_threshold()
    with _collecting_less():
        assert gc.get_freeze_count() > 0 and gc.get_threshold()[0] == 10_000
        with _collecting_less():  # nested (a caller froze the heap): left as it is
            pass
        assert gc.get_freeze_count() > 0
        pool = _pool(2)  # forks from the frozen heap and leaves it frozen
        try:
            assert pool.apply_async(_square, (7,)).result(timeout=30) == 49
        finally:
            pool.close()
            pool.join()
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before
