"""One measurement in a fresh process: ``python -m scratchgan.bench.worker TASK.json OUT.json``.

The parent (``scratchgan.bench.run``) sets the thread and malloc environment variables
before starting this process, so they are in force when NumPy, Numba and PyTorch load.
The task is a JSON object with "kind" ("probe", "kernels", "step" or "overhead") and its
settings; the result is written as JSON to OUT.json (an "error" key where the measurement
failed). A "step" task's "section" names the step: "step" and "wgan-gp" (the DCGAN-28
steps of ``steps``) or "mlp" (the PacGAN MLP step of ``mlp``).

Threads: our CPU measurements run inside ``scratchgan.threads.using_threads(threads)``
(the kernels' chunk workers = threads, BLAS and OpenMP pools of one thread), as
``scratchgan train`` runs; PyTorch gets ``torch.set_num_threads(threads)``.

Foreign load: every timed measurement records the cores other processes used while it
ran ("foreign_load_cores"), also when it does not wait for a quiet machine (``max_wait``
0, as under ``--background-load``, where that load is the point).

Memory of a training step (kind "step"): after the models, optimizers and data are built
and one first step has run (compilation, optimizer state, persistent workspaces), the
garbage is collected, the heap's free pages are handed back (``malloc_trim``), the
process's resident-set high-water mark is reset (``/proc/self/clear_refs`` = 5, Linux) and
the current RSS read ("rss_before_mib": interpreter, libraries, parameters, optimizer
state). After the warm-up and timed steps, VmHWM is the peak RSS while stepping
("rss_peak_mib", the whole process) and the difference is the working memory of a step
("step_mib": activations, gradients, temporaries). Where the reset is not possible,
``ru_maxrss`` (peak over the whole process life) stands in and "memory_method" says so.

On the GPU (task "device": "cuda") every timed repeat is bracketed by a device
synchronisation, TF32 is off for CuPy and PyTorch alike (cuBLAS and cuDNN), and the step's
GPU memory is reported too ("gpu_mib": CuPy's memory-pool size after the steps, which only
grows, or PyTorch's peak allocated bytes).
"""
from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import resource
import sys
import time
import traceback
from typing import Any

from scratchgan.backend import CPU, as_device


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _malloc_trim() -> None:
    """Hand the heap's free pages back to the OS (glibc), so the baseline RSS holds no
    memory that building the models or loading data used and freed."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _gpu_mib(impl: str, torch: Any) -> float:
    if impl == "torch":
        return torch.cuda.max_memory_allocated() / 2 ** 20
    import cupy
    return cupy.get_default_memory_pool().total_bytes() / 2 ** 20


def _ours_threads(task: dict[str, Any]) -> contextlib.AbstractContextManager:
    """The thread scope of our CPU measurements: ``using_threads(task["threads"])``."""
    if as_device(task.get("device", CPU.name)).is_gpu:
        return contextlib.nullcontext()
    from scratchgan.threads import using_threads
    return using_threads(task["threads"])


def measure_step(task: dict[str, Any], torch: Any) -> dict[str, Any]:
    if task["impl"] == "ours":
        with _ours_threads(task):
            return _measure_step(task, torch)
    return _measure_step(task, torch)


def _step_fn(task: dict[str, Any], torch: Any, device: str):
    section, batch = task["section"], task["batch"]
    if section == "mlp":
        from scratchgan.bench.mlp import ours_mlp_step, torch_mlp_step
        if as_device(device).is_gpu:
            raise ValueError("the mlp section runs on the CPU only")
        return (torch_mlp_step(torch, batch) if task["impl"] == "torch"
                else ours_mlp_step(batch, task["backend"]))
    from scratchgan.bench.steps import ours_step, torch_step
    if task["impl"] == "torch":
        return torch_step(torch, section, batch, channels_last=task["variant"] == "channels_last",
                          device=device)
    return ours_step(section, batch, task["backend"], device=device)


def _measure_step(task: dict[str, Any], torch: Any) -> dict[str, Any]:
    from scratchgan.bench.timing import bench_pair, foreign_load, snapshot, wait_quiet
    device = task.get("device", CPU.name)
    sync = None
    if as_device(device).is_gpu:
        from scratchgan.bench.machine import cuda_sync
        sync = cuda_sync
    fn = _step_fn(task, torch, device)
    t0 = time.perf_counter()
    fn()                      # the first warm-up step: Numba cache load or compile, oneDNN
    if sync:                  # primitives, NVRTC compiles or cache loads, optimizer state
        sync()
    first = time.perf_counter() - t0
    gc.collect()
    _malloc_trim()            # what building and the first step freed leaves the baseline
    reset = _reset_peak_rss()
    rss_before = _status_kib("VmRSS")
    load = wait_quiet(task["max_wait"])
    s0 = snapshot()
    r = bench_pair({"step": fn}, task["repeats"], 0.0, warmup=task["warmup"] - 1,
                   sync=sync)["step"]
    load = max(load or 0.0, foreign_load(s0, snapshot()))
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss      # KiB on Linux
    hwm = _status_kib("VmHWM") if reset else None
    peak = hwm if hwm is not None else maxrss
    result = {"median_s": r["median_s"], "min_s": r["min_s"], "times_s": r["times_s"],
              "first_step_s": first, "minor_faults_per_step": r["minor_faults_per_call"],
              "foreign_load_cores": load, "process_maxrss_mib": maxrss / 1024,
              "memory_method": "VmHWM after reset" if hwm is not None else "ru_maxrss"}
    if rss_before is not None:
        result.update(rss_before_mib=rss_before / 1024, rss_peak_mib=peak / 1024,
                      step_mib=(peak - rss_before) / 1024)
    if as_device(device).is_gpu:
        result["gpu_mib"] = _gpu_mib(task["impl"], torch)
    return result


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    torch = None
    if task.get("torch"):
        try:
            import torch
        except Exception as e:  # noqa: BLE001 - a broken install is reported, not raised
            from scratchgan.bench.run import TORCH_IMPORT_ERROR
            return {"error": f"{TORCH_IMPORT_ERROR}: {type(e).__name__}: {e}"}
        torch.set_num_threads(task["threads"])
    kind = task["kind"]
    device = task.get("device", CPU.name)
    if as_device(device).is_gpu:
        from scratchgan.backend import cuda_module
        from scratchgan_kernels.cuda import set_tf32
        cuda_module()
        set_tf32(False)
        if torch is not None:
            if not torch.cuda.is_available():
                from scratchgan.bench.run import TORCH_CUDA_ERROR
                return {"error": f"{TORCH_CUDA_ERROR} (torch.cuda.is_available() is False)"}
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
    if kind == "probe":
        from scratchgan.bench.machine import gpu_probe, probe
        result = probe(task["peak_size"], task["repeats"], torch)
        if as_device(device).is_gpu:
            result["gpu"] = gpu_probe(task["gpu_peak_size"], task["repeats"], torch,
                                      task.get("card"))
        return result
    if kind == "kernels":
        from scratchgan.bench.layers import run_kernel_table
        rows = run_kernel_table(task["batch"], task["backends"], torch, task["repeats"],
                                task["min_time"], task["max_wait"],
                                progress=lambda line: print(line, flush=True), device=device,
                                threads=None if as_device(device).is_gpu else task["threads"])
        return {"rows": rows}
    if kind == "step":
        return measure_step(task, torch)
    if kind == "overhead":
        from scratchgan.bench.overhead import CHAIN_OPS, run_overhead
        return {"rows": run_overhead(task["threads"], torch, task["repeats"], task["min_time"],
                                     task["max_wait"], task.get("n_ops") or CHAIN_OPS)}
    raise ValueError(f"unknown task kind {kind!r}")


def main(argv: list[str]) -> int:
    task_path, out_path = argv
    with open(task_path) as f:
        task = json.load(f)
    try:
        result = run_task(task)
        status = 0
    except Exception as e:  # noqa: BLE001 - reported to the parent, which goes on
        traceback.print_exc()
        result, status = {"error": f"{type(e).__name__}: {e}"}, 1
    result["pid"] = os.getpid()
    with open(out_path, "w") as f:
        json.dump(result, f)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
