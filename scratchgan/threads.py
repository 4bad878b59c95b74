"""Thread counts, chosen on purpose and applied in one place.

scratchgan's parallelism is the numba kernels' own (``scratchgan_kernels.parallel``):
a conv cuts its batch into chunks whose boundaries depend only on the shapes, and its
worker threads each take the next chunk until none is left, every matrix product inside
a chunk on one BLAS thread. Two things follow:

* **Speed that survives a busy machine.** A BLAS thread pool splits each product across
  its threads and waits for the slowest: when another process keeps one of two cores
  busy, every product waits for a thread that is not running, and a DCGAN step takes
  about 3x its quiet time (measured for us and for PyTorch alike). Chunk workers share
  the work instead: the one on the busy core takes fewer chunks, and a step slows by
  about the share of the machine that was lost, with no load measurement to go wrong.
* **Results that do not depend on the thread count.** Each chunk writes its own part of
  the output (or its own partial sum, added in chunk order), and BLAS, on one thread,
  never splits a sum differently. So a run resumed with another ``--threads`` (or on a
  machine with more cores) reproduces the uninterrupted run bit for bit. (A multithreaded
  BLAS does not promise that: OpenBLAS 0.3.31 gives other float32 roundings for some
  products on 1 and 2 threads, e.g. (256 x 490) @ (490 x 2048).)

``using_threads(n)`` applies this for a block and restores what was there before: the
kernels' workers (``n``; 0 = auto, one per core this process may run on; the dense
layers' products are a kernel too, in blocks on the same workers) and BLAS and OpenMP
pools of one thread (through threadpoolctl), so no BLAS thread waits or spins beside the
workers and a product made outside the kernels in the block is deterministic as well.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

from threadpoolctl import threadpool_limits

from scratchgan_kernels import parallel


def check_threads(threads: int) -> int:
    """``threads`` if it is a valid setting (0 = auto, or a count >= 1), else a ValueError."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ValueError(f"threads must be 0 (auto: one per available core) or a count >= 1, "
                         f"got {threads!r}")
    return threads


def resolve_threads(threads: int) -> int:
    """The worker count a setting means: itself, or for 0 one per available core."""
    return check_threads(threads) or parallel.default_workers()


@contextlib.contextmanager
def using_threads(threads: int = 0) -> Iterator[int]:
    """Run the block with ``threads`` kernel workers (0: one per available core) and
    single-threaded BLAS/OpenMP pools; restore the previous settings after it. Yields the
    worker count."""
    workers = resolve_threads(threads)
    old = parallel.set_workers(workers)
    try:
        with threadpool_limits(limits=1):
            yield workers
    finally:
        parallel.set_workers(old)
