"""Deterministic parallel loops over chunks, for the CPU kernels (the numba backend).

A kernel cuts its work into chunks whose boundaries depend only on the shapes (never on
the number of threads), and ``parallel_for(n_chunks, body)`` runs ``body(k)`` for every
chunk on this backend's workers: the calling thread and ``workers - 1`` pool threads,
each taking the next unstarted chunk until none is left. Each chunk writes its own part
of the output (or its own partial sum, added up afterwards in chunk order), and every
matrix product inside a chunk runs on one BLAS thread, so the result is the same bit for
bit whatever the number of workers, and a training run resumed with another thread count
is still exact.

Why not BLAS's own threads: a BLAS call splits one product across its threads and waits
for the slowest at its end. When another process keeps one of two cores busy, every
product waits for a thread that is not running, and a training step takes about 3x its
quiet time. Here a worker on a busy core simply takes fewer chunks (the others take the
rest), so a step slows down by about the share of the machine it lost. And the column
and scatter passes around the products run in parallel too (Numba code compiled with
``nogil``), where BLAS threads would leave them on one core.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from threadpoolctl import ThreadpoolController


def default_workers() -> int:
    """One worker per core this process may run on (its CPU affinity)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:          # not Linux
        return max(1, os.cpu_count() or 1)


_workers = default_workers()
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_in_worker = threading.local()      # .flag: this thread is running a chunk
_blas: ThreadpoolController | None = None


def get_workers() -> int:
    """The number of threads that run a kernel's chunks (the caller's included)."""
    return _workers


def set_workers(n: int) -> int:
    """Run chunks on ``n`` threads (1: all on the calling thread); returns the old count."""
    global _workers
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_workers: the number of worker threads must be an int >= 1, "
                         f"got {n!r}")
    old, _workers = _workers, n
    return old


def _executor(n: int) -> ThreadPoolExecutor:
    """The pool threads (created on first use, grown when more are asked for)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < n:
            if _pool is not None:
                _pool.shutdown(wait=True)
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="scratchgan-kernels")
        return _pool


def _one_blas_thread():
    """A context in which BLAS runs each product on the calling thread (6 us to enter)."""
    global _blas
    if _blas is None:
        _blas = ThreadpoolController()
    return _blas.limit(limits=1, user_api="blas")


def parallel_for(n_chunks: int, body: Callable[[int], None]) -> None:
    """``body(k)`` for k in range(n_chunks), on up to ``get_workers()`` threads, each taking
    the next chunk as it finishes one, with BLAS on one thread per product throughout;
    returns when all are done (the first exception of a chunk is raised here)."""
    if getattr(_in_worker, "flag", False):     # nested: already inside a chunk
        for k in range(n_chunks):
            body(k)
        return
    with _one_blas_thread():
        _run(n_chunks, body)


def _run(n_chunks: int, body: Callable[[int], None]) -> None:
    helpers = min(_workers, n_chunks) - 1
    if helpers <= 0:
        for k in range(n_chunks):
            body(k)
        return
    chunks = iter(range(n_chunks))
    lock = threading.Lock()

    def work() -> None:
        _in_worker.flag = True      # a kernel called inside a chunk runs its own serially
        try:
            while True:
                with lock:
                    k = next(chunks, None)
                if k is None:
                    return
                body(k)
        finally:
            _in_worker.flag = False

    futures = [_executor(helpers).submit(work) for _ in range(helpers)]
    try:
        work()
    finally:
        for f in futures:
            f.result()
