"""The parser processes: a pool that survives one of them dying.

multiprocessing.Pool loses the task of a worker that is killed (kill -9, the OOM killer) and then
waits for its result for ever, while the run holds the writer lock. Here every worker has its
own pipe, so this process knows which task each one holds: when a worker dies, its task fails
with WorkerDied (the caller retries or quarantines it), the task it had not started yet goes
back to the queue, and a fresh worker takes its place. Workers die with this process
(PR_SET_PDEATHSIG), so an idle worker never outlives a killed run.

One thread here hands out tasks and reads answers; it sleeps in wait() until a pipe or a worker
has something to say (no polling, no timeout). Each worker holds two tasks, so it starts its
next one while this process reads the answer to the last.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import resource
import signal
import threading
from collections import deque
from concurrent.futures import Future
from multiprocessing.connection import Connection, wait
from typing import Any, Callable

_PR_SET_PDEATHSIG = 1
_PER_WORKER = 2


class WorkerDied(RuntimeError):
    """The process running a task died before it answered (killed, or out of memory)."""


class _Task:
    __slots__ = ("fn", "args", "future")

    def __init__(self, fn: Callable, args: tuple) -> None:
        self.fn, self.args, self.future = fn, args, Future()


class _Worker:
    __slots__ = ("process", "conn", "tasks")

    def __init__(self, process, conn: Connection) -> None:
        self.process, self.conn, self.tasks = process, conn, deque()


def _die_with_parent(parent: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: an orphan still ends when it next reads its closed pipe
    if os.getppid() != parent:  # the parent died before the call above took effect
        os._exit(1)


def _cap_memory(growth: int) -> None:
    """At most `growth` bytes of address space beyond what the worker starts with (its inherited
    modules map ~1.6 GB): past it an allocation raises MemoryError, which costs one input
    (input_too_large), instead of the kernel's OOM killer choosing a process."""
    try:
        with open("/proc/self/statm") as statm:
            mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return  # not Linux: no cap
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = mapped + growth if hard == resource.RLIM_INFINITY else min(mapped + growth, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _serve(conn: Connection, parent: int, initializer: Callable[[], None] | None, memory_growth: int | None) -> None:
    _die_with_parent(parent)
    if memory_growth is not None:
        _cap_memory(memory_growth)
    if initializer is not None:
        initializer()
    tasks: queue.SimpleQueue = queue.SimpleQueue()
    # A thread takes tasks off the pipe as they come, so the parent's send of the next task
    # never waits for this one to finish (while this one waits to send its answer: a deadlock).
    threading.Thread(target=_read_tasks, args=(conn, tasks), daemon=True).start()
    while (task := tasks.get()) is not None:
        fn, args = task
        try:
            answer: tuple[bool, Any] = (True, fn(*args))
        except Exception as exc:
            answer = (False, exc)
        try:
            conn.send(answer)
        except Exception as exc:  # an answer that does not pickle
            conn.send((False, RuntimeError(f"the worker's answer could not be sent: {exc!r}")))


def _read_tasks(conn: Connection, tasks: queue.SimpleQueue) -> None:
    try:
        while (task := conn.recv()) is not None:
            tasks.put(task)
    except (EOFError, OSError):
        pass
    tasks.put(None)


class WorkerPool:
    """`apply_async(fn, args)` -> Future; `close()` finishes the queued tasks; `join()` waits.
    `memory_growth` bounds each worker's memory beyond its start (see _cap_memory)."""

    def __init__(self, processes: int, initializer: Callable[[], None] | None = None,
                 memory_growth: int | None = None) -> None:
        self._ctx = multiprocessing.get_context("fork")
        self._initializer = initializer
        self._memory_growth = memory_growth
        self._queue: deque[_Task] = deque()
        self._lock = threading.Lock()
        self._closing = False
        self._wake_read, self._wake_write = os.pipe()
        self.deaths = 0  # workers that died while holding a task
        self._workers = [self._start() for _ in range(processes)]
        self._thread = threading.Thread(target=self._run, name="tlsrpt-pool", daemon=True)
        self._thread.start()

    def _start(self) -> _Worker:
        ours, theirs = self._ctx.Pipe()
        process = self._ctx.Process(target=_serve, args=(theirs, os.getpid(), self._initializer, self._memory_growth),
                                    daemon=True)
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def apply_async(self, fn: Callable, args: tuple = ()) -> Future:
        task = _Task(fn, args)
        with self._lock:
            if self._closing:
                raise ValueError("the pool is closed")
            self._queue.append(task)
        os.write(self._wake_write, b"t")
        return task.future

    def close(self) -> None:
        with self._lock:
            self._closing = True
        os.write(self._wake_write, b"c")

    def join(self) -> None:
        self._thread.join()
        for worker in self._workers:
            worker.process.join()
        os.close(self._wake_read)
        os.close(self._wake_write)

    @property
    def pids(self) -> list[int]:
        return [worker.process.pid for worker in self._workers]

    def _run(self) -> None:
        try:
            self._serve_tasks()
        except BaseException as exc:  # never leave a caller waiting for a future nobody will set
            with self._lock:
                pending = [*self._queue, *(task for worker in self._workers for task in worker.tasks)]
                self._queue.clear()
            for task in pending:
                if not task.future.done():
                    task.future.set_exception(RuntimeError(f"the worker pool failed: {exc!r}"))
            raise

    def _serve_tasks(self) -> None:
        while True:
            with self._lock:
                for worker in self._workers:
                    while self._queue and len(worker.tasks) < _PER_WORKER:
                        task = self._queue.popleft()
                        try:
                            worker.conn.send((task.fn, task.args))
                        except OSError:  # the worker is gone: its sentinel says so below
                            self._queue.appendleft(task)
                            break
                        except Exception as exc:  # a task that does not pickle fails alone
                            task.future.set_exception(exc)
                            continue
                        worker.tasks.append(task)
                if self._closing and not self._queue and not any(w.tasks for w in self._workers):
                    break
            busy = [w.conn for w in self._workers if w.tasks]
            ready = set(wait([self._wake_read, *busy, *(w.process.sentinel for w in self._workers)]))
            if self._wake_read in ready:
                os.read(self._wake_read, 4096)
            for index, worker in enumerate(self._workers):
                answered = worker.conn in ready and self._answer(worker)
                if worker.process.sentinel in ready or (worker.conn in ready and not answered):
                    self._workers[index] = self._replace(worker)
        for worker in self._workers:
            worker.conn.send(None)
            worker.conn.close()

    def _answer(self, worker: _Worker) -> bool:
        """Read one answer; False when the pipe says the worker is gone."""
        try:
            ok, value = worker.conn.recv()
        except (EOFError, OSError):
            return False
        task = worker.tasks.popleft()
        if ok:
            task.future.set_result(value)
        else:
            task.future.set_exception(value)
        return True

    def _replace(self, worker: _Worker) -> _Worker:
        while worker.tasks and worker.conn.poll():  # answers it sent before it died still count
            if not self._answer(worker):
                break
        worker.process.join()
        worker.conn.close()
        if worker.tasks:
            self.deaths += 1
            lost = worker.tasks.popleft()
            with self._lock:
                self._queue.extendleft(reversed(worker.tasks))  # never started: run them elsewhere
            code = worker.process.exitcode
            lost.future.set_exception(WorkerDied(f"the parser process died (exit code {code}) on this task"))
        return self._start()
