"""Background load of a fixed kind, for the ``load`` section of ``scratchgan bench``.

``background_load(k)`` starts ``k`` busy processes beside a measurement and stops them
when the block ends, however it ends (an exception, a failed or timed-out worker, Ctrl-C):

    with background_load(1) as pids:
        result = run_worker(task, env)

Each process is ``python -c LOADER`` with one BLAS/OpenMP thread (OPENBLAS_NUM_THREADS,
OMP_NUM_THREADS, MKL_NUM_THREADS = 1): a float32 512 x 512 matrix product in a loop, about
one core of steady, cache-hungry work, the same on every run and for every library
measured beside it. It is what a second program on a laptop looks like to a thread pool:
one core taken. Each runs in its own session (its own process group), is killed with
SIGKILL on its group and reaped in a ``finally``; in case the parent itself dies without
running the ``finally`` (SIGKILL), a loader also exits as soon as its parent changes.
``background_load`` waits until every loader has done its first product (so the load is
there when the measurement starts), at most ``ready_timeout`` seconds.
"""
from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from typing import Iterator

LOAD_KIND = ("single-threaded NumPy BLAS loop: float32 512 x 512 matmul, "
             "OPENBLAS/OMP/MKL_NUM_THREADS=1")

LOADER = """\
import os, sys
import numpy as np
parent = os.getppid()
a = np.random.default_rng(0).standard_normal((512, 512)).astype(np.float32)
out = np.empty_like(a)
np.matmul(a, a, out=out)
sys.stdout.write("ready\\n")
sys.stdout.flush()
while os.getppid() == parent:
    np.matmul(a, a, out=out)
"""


class BackgroundLoadError(RuntimeError):
    """A background-load process did not start."""


def check_background_load(k: int) -> int:
    """``k`` if it is a valid number of busy processes (an int >= 1), else a ValueError."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"--background-load must be a number of busy processes >= 1, got {k!r}")
    return k


def _loader_env() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[key] = "1"
    return env


def _stop(proc: subprocess.Popen) -> None:
    """Kill the loader's process group and reap it (never leaves it running)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)      # its own session: pgid == pid
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except OSError:
        pass
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def _wait_ready(procs: list[subprocess.Popen], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(procs)
    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            raise BackgroundLoadError(f"{len(pending)} background-load process(es) did not "
                                      f"start within {timeout:g} s")
        ready, _, _ = select.select([p.stdout for p in pending], [], [], left)
        for p in [p for p in pending if p.stdout in ready]:
            line = p.stdout.readline()
            if not line:
                raise BackgroundLoadError(f"a background-load process exited with status "
                                          f"{p.wait()} before it started")
            pending.remove(p)


@contextlib.contextmanager
def background_load(k: int, ready_timeout: float = 60.0) -> Iterator[list[int]]:
    """Run the block beside ``k`` busy processes (see the module docstring); yields their
    process ids. ``k`` = 0: no load."""
    if k != 0:
        check_background_load(k)
    procs: list[subprocess.Popen] = []
    try:
        env = _loader_env()
        for _ in range(k):
            procs.append(subprocess.Popen([sys.executable, "-c", LOADER], env=env,
                                          stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                          start_new_session=True))
        _wait_ready(procs, ready_timeout)
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            _stop(p)
