"""``scratchgan bench``: run the probe and the sections in worker processes, print the
tables, and write JSON, markdown and a chart on request.

Every worker gets the same environment: OMP/OPENBLAS/MKL/NUMBA_NUM_THREADS = --threads
(PyTorch also calls ``torch.set_num_threads``) and, with ``--malloc tuned`` (the default),
MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=1073741824, so that multi-MB arrays
and tensors are not page-faulted in afresh on every call, in ours and in PyTorch alike.

``--device cuda`` measures the GPU instead: our ``cuda`` backend (CuPy, the CUDA C kernels,
cuBLAS) against PyTorch on CUDA, TF32 off in both, every timed repeat bracketed by a device
synchronisation; the training steps at batches 64 and 256 by default; "% peak" against the
named card's FP32 peak (``--card``, else recognised from the device name), with the measured
cuBLAS float32 GEMM rate beside it.

Three CPU sections besides the kernels and the DCGAN steps (part of a full CPU run; a
``--device cuda`` run leaves them out):

    load      the DCGAN-28 step (ours on the first backend, PyTorch eager) at batch 64 (or
              at each of ``--batches`` where given),
              quiet and then beside ``--background-load K`` busy processes (default 1; see
              ``load``), each one's slowdown against its own quiet time; the quiet times
              are the same run's "step" rows where that section ran, else measured here.
              Giving ``--background-load`` adds this section to ``--only``'s list.
    mlp       the PacGAN MLP step (batch 100), ours on each backend and PyTorch eager
    overhead  the cost of one Function call, forward and forward+backward, on tiny arrays
              (``overhead``), ours and PyTorch alternately in one worker
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time
from typing import Any

from scratchgan.backend import CPU, CUDA, GPU_BACKEND, as_device, cpu_backends, cuda_module
from scratchgan.bench import flops
from scratchgan.bench.load import (LOAD_KIND, BackgroundLoadError, background_load,
                                   check_background_load)
from scratchgan.bench.mlp import MLP_BATCH, mlp_step_flops
from scratchgan.io import MARK, atomic_write, json_mark
from scratchgan.bench.overhead import CHAIN_OPS
from scratchgan.bench_options import SECTIONS, add_arguments

CPU_ONLY = ("load", "mlp", "overhead")
DEFAULT_BACKGROUND_LOAD = 1
LOAD_BATCH = 64            # the load section's batch where --batches is not given
TORCH_IMPORT_ERROR = "PyTorch did not import"
TORCH_CUDA_ERROR = "PyTorch has no CUDA here"
DEFAULT_BATCHES = {CPU.name: [64, 128], CUDA.name: [64, 256]}
DEFAULT_GPU_PEAK_SIZE = 8192
FULL = {"repeats": 15, "kernel_min_time": 0.02, "max_wait": 60.0, "warmup": 3, "peak_repeats": 5}
QUICK = {"repeats": 3, "kernel_min_time": 0.005, "max_wait": 0.0, "warmup": 2, "peak_repeats": 2}


def _worker_env(threads: int, malloc: str) -> dict[str, str]:
    from scratchgan.bench.machine import MALLOC_ENV, THREAD_ENV
    env = dict(os.environ)
    for key in THREAD_ENV:
        env[key] = str(threads)
    for key, value in MALLOC_ENV.items():
        if malloc == "tuned":
            env[key] = value
        else:
            env.pop(key, None)
    return env


def _run_worker(task: dict[str, Any], env: dict[str, str], timeout: float = 3600) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="scratchgan-bench-") as tmp:
        task_path, out_path = os.path.join(tmp, "task.json"), os.path.join(tmp, "out.json")
        with open(task_path, "w") as f:
            json.dump(task, f)
        sys.stdout.flush()
        try:
            proc = subprocess.run([sys.executable, "-m", "scratchgan.bench.worker", task_path,
                                   out_path], env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"the worker ran past {timeout:.0f} s and was stopped"}
        try:
            with open(out_path) as f:
                return json.load(f)
        except (OSError, json.JSONDecodeError):
            return {"error": f"the worker exited with status {proc.returncode} and no result "
                             "(see its output above)"}


def _torch_status(no_torch: bool) -> str | None:
    """None where PyTorch will be measured, else why not."""
    if no_torch:
        return "skipped (--no-torch)"
    if importlib.util.find_spec("torch") is None:
        return "skipped (PyTorch is not installed: pip install torch)"
    return None


def _device(args: argparse.Namespace) -> str:
    return getattr(args, "device", None) or CPU.name


def _batches(args: argparse.Namespace) -> list[int]:
    return list(args.batches) if args.batches else DEFAULT_BATCHES[_device(args)]


def command_line(args: argparse.Namespace) -> str:
    """The ``scratchgan bench`` command that reproduces ``args`` (defaults left out)."""
    words = ["scratchgan", "bench"]
    if args.quick:
        words.append("--quick")
    if args.only:
        words += ["--only", *args.only]
    if as_device(_device(args)).is_gpu:
        words += ["--device", _device(args)]
    if getattr(args, "card", None):
        words += ["--card", args.card]
    if _batches(args) != DEFAULT_BATCHES[_device(args)]:
        words += ["--batches", *map(str, _batches(args))]
    if args.backends:
        words += ["--backends", *args.backends]
    if args.no_torch:
        words.append("--no-torch")
    for name, default in (("repeats", None), ("threads", 2), ("malloc", "tuned"),
                          ("max_wait", None), ("kernel_batch", 64), ("peak_size", 2048),
                          ("background_load", None),
                          ("json", None), ("chart", None), ("markdown", None)):
        value = getattr(args, name, None)
        if value is not None and value != default:
            words += ["--" + name.replace("_", "-"), f"{value:g}" if isinstance(value, float)
                      else str(value)]
    return " ".join(shlex.quote(w) for w in words)


def run_benchmarks(args: argparse.Namespace, log=print) -> dict[str, Any]:
    """Run what ``args`` asks for; return every result (the JSON document)."""
    mode = QUICK if args.quick else FULL
    repeats = args.repeats or mode["repeats"]
    max_wait = mode["max_wait"] if args.max_wait is None else args.max_wait
    device, batches = _device(args), _batches(args)
    for name in ("batches", "threads", "repeats", "kernel_batch", "peak_size"):
        values = batches if name == "batches" else getattr(args, name)
        if values is not None and min(values if isinstance(values, list) else [values]) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {values}")
    if not (max_wait >= 0 and math.isfinite(max_wait)):
        raise ValueError(f"--max-wait must be a finite number of seconds >= 0, got {max_wait}")
    if as_device(device).is_gpu:
        cuda_module()        # DeviceUnavailable (a ValueError) names what is missing
        if args.backends and args.backends != [GPU_BACKEND]:
            raise ValueError(f"--device {device} measures the {GPU_BACKEND} backend; leave out "
                             "--backends")
        backends = [GPU_BACKEND]
    else:
        present = cpu_backends()
        backends = args.backends or [b for b in ("numba", "numpy") if b in present]
        missing = [b for b in backends if b not in present]
        if missing:
            raise ValueError(f"CPU kernel backend(s) not available here: {', '.join(missing)}; "
                             f"available: {', '.join(present)}")
    sections = _sections(args)
    k_load = getattr(args, "background_load", None)
    if k_load is not None:
        check_background_load(k_load)
    k_load = DEFAULT_BACKGROUND_LOAD if k_load is None else k_load
    torch_skip = _torch_status(args.no_torch)
    env = _worker_env(args.threads, args.malloc)
    common = {"threads": args.threads, "max_wait": max_wait, "repeats": repeats,
              "device": device}
    results: dict[str, Any] = {
        "schema": 1, "command": command_line(args), "quick": bool(args.quick),
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": {"sections": sections, "batches": batches, "backends": backends,
                     "device": device, "tf32": False,
                     "threads": args.threads, "malloc": args.malloc, "repeats": repeats,
                     "warmup_steps": mode["warmup"], "max_wait_s": max_wait,
                     "kernel_batch": args.kernel_batch, "kernel_min_time_s": mode["kernel_min_time"],
                     "peak_size": args.peak_size, "dtype": "float32",
                     **({"background_load": k_load, "background_load_kind": LOAD_KIND}
                        if "load" in sections else {})},
        "torch": torch_skip or "measured",
    }
    t_start = time.perf_counter()

    probe = {"kind": "probe", "peak_size": args.peak_size, "repeats": mode["peak_repeats"],
             "gpu_peak_size": DEFAULT_GPU_PEAK_SIZE, "card": getattr(args, "card", None),
             **common}
    log(f"machine probe (float32 matmul n={args.peak_size}"
        + (f"; GPU n={DEFAULT_GPU_PEAK_SIZE}" if as_device(device).is_gpu else "") + ") ...")
    results["machine"] = _run_worker({**probe, "torch": torch_skip is None}, env)
    if results["machine"].get("error", "").startswith((TORCH_IMPORT_ERROR, TORCH_CUDA_ERROR)):
        torch_skip = results["torch"] = f"skipped ({results['machine']['error']})"
        results["machine"] = _run_worker({**probe, "torch": False}, env)   # go on without it

    if "kernels" in sections:
        log(f"kernel table, batch {args.kernel_batch}: {', '.join(backends)}"
            f"{'' if torch_skip else ', torch'} ...")
        results["kernels"] = {"batch": args.kernel_batch, "backends": backends,
                              "torch": torch_skip or "measured",
                              **_run_worker({"kind": "kernels", "torch": torch_skip is None,
                                             "batch": args.kernel_batch, "backends": backends,
                                             "min_time": mode["kernel_min_time"], **common}, env)}

    def step_task(section: str, impl: str, which: str, batch: int) -> dict[str, Any]:
        task = {"kind": "step", "section": section, "batch": batch, "impl": impl,
                "torch": impl == "torch", "warmup": mode["warmup"], **common}
        task["backend" if impl == "ours" else "variant"] = which
        return task

    for section in ("step", "wgan-gp", "mlp"):
        if section not in sections:
            continue
        configs = [("ours", b) for b in (backends[:1] if section == "wgan-gp" else backends)]
        if torch_skip is None:
            configs += [("torch", "eager")] + ([("torch", "channels_last")]
                                               if section == "step" else [])
        step_flops = mlp_step_flops if section == "mlp" else (
            lambda b, section=section: flops.step_flops(b, section))
        section_batches = [MLP_BATCH] if section == "mlp" else batches
        rows = []
        for batch in section_batches:
            for impl, which in configs:
                name = f"{impl} {which.replace('_', '-')}"
                log(f"{section} {name} batch {batch} ...")
                r = _run_worker(step_task(section, impl, which, batch), env)
                rows.append(_step_row(name, impl, which, batch, step_flops(batch), r, log))
        for row in rows:     # ratio to PyTorch eager at the same batch
            base = next((r for r in rows if r["batch"] == row["batch"] and r["impl"] == "torch"
                         and r["which"] == "eager" and "median_s" in r), None)
            if base is not None and "median_s" in row:
                row["vs_torch_eager"] = row["median_s"] / base["median_s"]
        results[section] = {"torch": torch_skip or "measured", "rows": rows,
                            "flops_per_step": {str(b): step_flops(b) for b in section_batches}}

    if "load" in sections:
        load_batches = batches if args.batches else [LOAD_BATCH]
        results["load"] = _load_section(results, backends[0], load_batches, k_load, torch_skip,
                                        step_task, env, log)

    if "overhead" in sections:
        log(f"per-Function overhead: ours{'' if torch_skip else ', torch'} ...")
        results["overhead"] = {"torch": torch_skip or "measured",
                               **_run_worker({"kind": "overhead", "torch": torch_skip is None,
                                              "min_time": mode["kernel_min_time"],
                                              "n_ops": CHAIN_OPS, **common}, env)}
    results["wall_s"] = time.perf_counter() - t_start
    return results


def _sections(args: argparse.Namespace) -> list[str]:
    """The sections to run: --only's (plus load where --background-load is given), else all
    (on cuda, all but the CPU-only ones); a CPU-only one asked for on cuda is an error."""
    gpu = as_device(_device(args)).is_gpu
    if args.only:
        sections = list(args.only)
        if getattr(args, "background_load", None) is not None and "load" not in sections:
            sections.append("load")
    else:
        sections = [s for s in SECTIONS if not gpu or s not in CPU_ONLY]
        if gpu and getattr(args, "background_load", None) is not None:
            sections.append("load")
    bad = [s for s in sections if gpu and s in CPU_ONLY]
    if bad:
        raise ValueError(f"section(s) {', '.join(bad)} run on the CPU only (--device {CPU}); "
                         f"--background-load belongs to the load section")
    return sections


def _step_row(name: str, impl: str, which: str, batch: int, n_flops: int, r: dict[str, Any],
              log) -> dict[str, Any]:
    row = {"name": name, "impl": impl, "which": which, "batch": batch, "flops": n_flops, **r}
    if "median_s" in r:
        row["images_per_s"] = batch / r["median_s"]
        row["gflops"] = n_flops / r["median_s"] / 1e9
        log(f"  {1e3 * r['median_s']:.1f} ms/step (min {1e3 * r['min_s']:.1f})"
            + (f", foreign load {r['foreign_load_cores']:.2f} cores"
               if r.get("background_load") else ""))
    else:
        log(f"  failed: {r.get('error')}")
    return row


def measure_under_load(task: dict[str, Any], env: dict[str, str], k: int,
                       run_worker=None) -> dict[str, Any]:
    """``task`` in a fresh worker beside ``k`` busy processes (``load.background_load``),
    which are stopped when it ends, however it ends. The worker does not wait for a quiet
    machine (max_wait 0) and records the foreign load it saw. ``run_worker`` (default
    ``_run_worker``) runs it."""
    run_worker = run_worker or _run_worker
    try:
        with background_load(k) as pids:
            r = run_worker({**task, "max_wait": 0.0}, env)
    except BackgroundLoadError as e:   # a loader did not start: this row fails, the run goes on
        return {"error": f"background load: {e}", "background_load": k}
    return {**r, "background_load": k, "background_pids": pids}


def _load_section(results: dict[str, Any], backend: str, batches: list[int], k: int,
                  torch_skip: str | None, step_task, env: dict[str, str], log) -> dict[str, Any]:
    configs = [("ours", backend)] + ([("torch", "eager")] if torch_skip is None else [])
    quiet_rows = {(r["impl"], r["which"], r["batch"]): r
                  for r in results.get("step", {}).get("rows", []) if "median_s" in r}
    rows = []
    for batch in batches:
        for impl, which in configs:
            name = f"{impl} {which.replace('_', '-')}"
            quiet = quiet_rows.get((impl, which, batch))
            source = "step section"
            if quiet is None:
                log(f"load {name} batch {batch}, quiet ...")
                quiet = _step_row(name, impl, which, batch, flops.step_flops(batch),
                                  _run_worker(step_task("step", impl, which, batch), env), log)
                source = "measured here"
            rows.append({"name": name, "impl": impl, "which": which, "batch": batch,
                         "quiet": quiet, "quiet_from": source})
    for row in rows:
        log(f"load {row['name']} batch {row['batch']}, beside {k} busy "
            f"process{'' if k == 1 else 'es'} ...")
        r = measure_under_load(step_task("step", row["impl"], row["which"], row["batch"]), env, k)
        row["loaded"] = _step_row(row["name"], row["impl"], row["which"], row["batch"],
                                  flops.step_flops(row["batch"]), r, log)
        if "median_s" in row["loaded"] and "median_s" in row["quiet"]:
            row["slowdown"] = row["loaded"]["median_s"] / row["quiet"]["median_s"]
    for row in rows:         # ours / PyTorch eager at the same batch, quiet and loaded
        base = next((r for r in rows if r["batch"] == row["batch"] and r["impl"] == "torch"),
                    None)
        if base is None:
            continue
        for state in ("quiet", "loaded"):
            if "median_s" in row[state] and "median_s" in base[state]:
                row[f"vs_torch_{state}"] = row[state]["median_s"] / base[state]["median_s"]
    return {"background_load": k, "kind": LOAD_KIND, "torch": torch_skip or "measured",
            "backend": backend, "rows": rows}


def report(results: dict[str, Any], args: argparse.Namespace, log=print) -> None:
    from scratchgan.bench import report as rep
    log("")
    log(rep.format_console(results))
    if args.json:
        with atomic_write(args.json, "w") as f:
            json.dump({**results, **json_mark("bench")}, f, indent=1)
        log(f"wrote {args.json}")
    if args.markdown:
        with atomic_write(args.markdown, "w") as f:
            f.write(f"<!-- written by {MARK} bench -->\n" + rep.to_markdown(results))
        log(f"wrote {args.markdown}")
    if args.chart:
        try:
            rep.write_chart(results, args.chart)
            log(f"wrote {args.chart}")
        except ValueError as e:
            log(f"no chart: {e}")


def check_outputs(args: argparse.Namespace) -> None:
    """--json, --markdown and --chart checked before anything is measured (an
    OutputPathError, a ValueError, names the option)."""
    from scratchgan.gan.outputs import check_output_file
    for option, suffixes in (("json", (".json",)), ("markdown", (".md",)),
                             ("chart", (".png",))):
        if getattr(args, option):
            check_output_file(getattr(args, option), f"--{option}", suffixes,
                              overwrite=args.overwrite)


def run_from_args(args: argparse.Namespace) -> int:
    """Run, print and write what ``args`` (parsed by ``add_arguments``' options) asks for."""
    try:
        check_outputs(args)
        results = run_benchmarks(args, log=lambda s: print(s, flush=True))
    except ValueError as e:
        print(f"scratchgan bench: {e}", file=sys.stderr)
        return 2
    report(results, args)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scratchgan bench", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
