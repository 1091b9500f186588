"""The ingest's process pool (a multiprocessing.Pool that does not spin) keeps Pool's contract."""

from __future__ import annotations

import threading
import time

import pytest

from pipeline.ingest import _pool


def _square(n: int) -> int:
    time.sleep(0.001)
    return n * n


def _fail(n: int) -> int:
    raise ValueError(f"task {n} failed")


def test_results_come_back_complete_and_in_order():
    pool = _pool(2)
    try:
        pending = [pool.apply_async(_square, (n,)) for n in range(300)]
        assert [p.get(timeout=30) for p in pending] == [n * n for n in range(300)]
    finally:
        pool.close()
        pool.join()


def test_a_worker_error_reaches_the_caller():
    pool = _pool(2)
    try:
        with pytest.raises(ValueError, match="task 3 failed"):
            pool.apply_async(_fail, (3,)).get(timeout=30)
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
    assert all(p.ready() for p in pending)
