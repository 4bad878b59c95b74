"""The timing helper and the foreign-load monitor, shared by every benchmark.

``bench_pair(fns, repeats, min_time)`` times several callables *alternately* (one repeat
of each in turn), so a load change on a shared machine hits all of them alike: first two
untimed warm-up calls each (compilation, caches, workspaces), then an inner loop count per
callable so that one timed repeat lasts at least ``min_time`` (only fast kernels loop;
``min_time`` 0: no inner loop and no calibration call, for training steps),
then ``repeats`` timed repeats; per-call time = repeat time / inner, reported as median and
min. ``scopes`` gives a callable a context (e.g. ``lambda: using_threads(2)``) entered around
its warm-up, its calibration and each of its timed repeats, outside the timer, so callables
with different process-wide settings can still be timed alternately. For GPU work, ``sync`` (e.g. ``cupy.cuda.Device().synchronize``) is called before each
timed repeat starts and before it ends, so a repeat's time covers the device work its calls
queued, not only the launches. ``wait_quiet`` waits until other processes use less than ``threshold`` cores (read from
/proc/stat minus this process's own CPU time); ``foreign_load`` measures that load between
two ``snapshot()``s.

This module imports NumPy only inside ``matmul_rate``, so a script can set thread and malloc
environment variables before NumPy loads and still import it first.
"""
from __future__ import annotations

import contextlib
import os
import resource
import statistics
import time
from typing import Callable, ContextManager

from scratchgan.backend import CPU, CUDA

# PyTorch's name of each of our devices (torch's API, which happens to spell them alike)
TORCH_DEVICE = {CPU.name: "cpu", CUDA.name: "cuda"}


# -- load monitoring --------------------------------------------------------------

def _cpu_busy() -> float:
    """Seconds of CPU time used on the whole machine since boot (all cores)."""
    with open("/proc/stat") as f:
        v = [int(a) for a in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")


def snapshot() -> tuple[float, float, float]:
    """(wall time, machine CPU time, this process's CPU time incl. finished children)."""
    t = os.times()
    return time.perf_counter(), _cpu_busy(), t.user + t.system + t.children_user + t.children_system


def foreign_load(s0: tuple[float, float, float], s1: tuple[float, float, float]) -> float:
    """Cores used by other processes between two snapshots."""
    return max(0.0, (s1[1] - s0[1]) - (s1[2] - s0[2])) / max(s1[0] - s0[0], 1e-9)


def wait_quiet(max_wait: float, threshold: float = 0.3) -> float | None:
    """Wait (at most ``max_wait`` s) until other processes use < ``threshold`` cores; return the
    last load measured, or None at once when ``max_wait`` <= 0 (no waiting, no measuring)."""
    if max_wait <= 0:
        return None
    start = time.perf_counter()
    while True:
        s0 = snapshot()
        time.sleep(0.5)
        load = foreign_load(s0, snapshot())
        if load < threshold or time.perf_counter() - start > max_wait:
            return load


# -- timing -----------------------------------------------------------------------

def _no_sync() -> None:
    pass


def _inner_count(fn: Callable[[], object], min_time: float,
                 sync: Callable[[], object] = _no_sync) -> int:
    inner = 1
    while True:
        sync()
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        if time.perf_counter() - t0 >= min_time or inner >= 4096:
            return inner
        inner *= 2


def bench_pair(fns: dict[str, Callable[[], object]], repeats: int, min_time: float,
               warmup: int = 2, sync: Callable[[], object] | None = None,
               scopes: dict[str, Callable[[], ContextManager]] | None = None
               ) -> dict[str, dict]:
    """Time the callables alternately: {name: {"median_s", "min_s", "times_s", "inner",
    "minor_faults_per_call"}}, times per call. See the module docstring for the procedure;
    ``sync`` waits for queued device work (GPU timings), None for host code; ``scopes``
    {name: context factory} for callables that run in a context of their own."""
    sync = sync or _no_sync
    scopes = scopes or {}

    def scope(name: str) -> ContextManager:
        return scopes[name]() if name in scopes else contextlib.nullcontext()
    for name, fn in fns.items():     # warm-up (compiles, fills caches and workspaces)
        with scope(name):
            for _ in range(warmup):
                fn()
    sync()
    inner = {}
    for name, fn in fns.items():
        with scope(name):
            inner[name] = _inner_count(fn, min_time, sync) if min_time > 0 else 1
    times: dict[str, list[float]] = {name: [] for name in fns}
    faults = dict.fromkeys(fns, 0)
    for _ in range(repeats):
        for name, fn in fns.items():
            with scope(name):
                sync()
                f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                t0 = time.perf_counter()
                for _ in range(inner[name]):
                    fn()
                sync()
                times[name].append((time.perf_counter() - t0) / inner[name])
                faults[name] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
    return {name: {"median_s": statistics.median(t), "min_s": min(t), "times_s": t,
                   "inner": inner[name],
                   "minor_faults_per_call": faults[name] / (repeats * inner[name])}
            for name, t in times.items()}


def matmul_rate(dtype: str = "float32", n: int = 2048, repeats: int = 5) -> dict:
    """This machine's BLAS matmul rate (GFLOP/s, C = A @ B with n x n matrices), the
    '% of peak' reference: {"median", "best"} in GFLOP/s."""
    import numpy as np
    a = np.random.default_rng(0).standard_normal((n, n)).astype(dtype)
    out = np.empty_like(a)
    r = bench_pair({"mm": lambda: np.matmul(a, a, out=out)}, repeats, 0.05)["mm"]
    flops = 2 * n ** 3
    return {"n": n, "dtype": str(dtype), "median": flops / r["median_s"] / 1e9,
            "best": flops / r["min_s"] / 1e9}
