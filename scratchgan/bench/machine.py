"""The machine probe: CPU, software versions, malloc mode, measured and theoretical peak.

"Measured peak" is NumPy's float32 matmul (C = A @ B, n = 2048, BLAS on the pinned
threads): every "% peak" column divides by it. The FMA-theoretical estimate is read
cheaply from lscpu / /proc/cpuinfo and is only an estimate:

    peak = cores used x GHz x FLOP/cycle/core (float32)

with GHz the "CPU max MHz" of lscpu, or the nominal "cpu MHz" of /proc/cpuinfo where a
hypervisor hides the maximum (turbo clocks are then unknown), and FLOP/cycle from the ISA
flags and the vendor: 2 FMA pipes x SIMD lanes x 2 (AVX-512 on Intel: 2 x 16 x 2 = 64,
assuming a part with two 512-bit FMA units; AMD Zen 2-4 run 256-bit FMA pipes, so 32 even
with AVX-512 (Zen 4); Zen 5 (family 26): 64; AVX2 + FMA: 32; AVX: 16; else 8).
"""
from __future__ import annotations

import ctypes
import os
import platform
import subprocess
import sys
from typing import Any

from scratchgan.backend import CUDA
from scratchgan.bench.timing import TORCH_DEVICE

MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(64 * 2 ** 20), "MALLOC_TRIM_THRESHOLD_": str(2 ** 30)}
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def lscpu() -> dict[str, str]:
    """lscpu's "key: value" lines ({} where lscpu is missing)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    kv = {}
    for line in out.splitlines():
        k, sep, v = line.partition(":")
        if sep:
            kv[k.strip()] = v.strip()
    return kv


def _cpuinfo_mhz() -> float | None:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("cpu MHz"):
                    return float(line.split(":")[1])
    except (OSError, ValueError):
        pass
    return None


def theoretical_peak(kv: dict[str, str], threads: int) -> dict[str, Any] | None:
    """The float32 FMA peak estimate for ``threads`` cores (see the module docstring), or
    None where lscpu says too little."""
    try:
        cores = int(kv.get("Core(s) per socket", "0")) * int(kv.get("Socket(s)", "1"))
    except ValueError:
        return None
    flags = set(kv.get("Flags", "").split())
    mhz, source = None, ""
    if kv.get("CPU max MHz"):
        mhz, source = float(kv["CPU max MHz"]), "lscpu CPU max MHz"
    elif _cpuinfo_mhz():
        mhz, source = _cpuinfo_mhz(), "/proc/cpuinfo cpu MHz (nominal; turbo unknown)"
    elif kv.get("BogoMIPS"):
        mhz, source = float(kv["BogoMIPS"]) / 2, "BogoMIPS / 2"
    if not cores or not mhz or not flags:
        return None
    vendor, family = kv.get("Vendor ID", ""), kv.get("CPU family", "")
    amd = "AMD" in vendor
    if "avx512f" in flags:
        per_cycle = 64 if not amd or family == "26" else 32
        isa = "AVX-512" + (" on 256-bit pipes" if per_cycle == 32 else "")
    elif "fma" in flags and "avx2" in flags:
        per_cycle, isa = 32, "AVX2 + FMA"
    elif "avx" in flags:
        per_cycle, isa = 16, "AVX"
    else:
        per_cycle, isa = 8, "SSE"
    used = min(cores, threads)
    return {"cores": cores, "cores_used": used, "ghz": mhz / 1000, "ghz_source": source,
            "isa": isa, "flops_per_cycle_fp32": per_cycle,
            "gflops_fp32": used * mhz / 1000 * per_cycle,
            "formula": f"{used} cores x {mhz / 1000:.2f} GHz x {per_cycle} FLOP/cycle ({isa})"}


def openblas_core() -> str | None:
    """The kernel set OpenBLAS picked at run time (e.g. "SkylakeX"), where NumPy uses it."""
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if "openblas" in line.lower()
                           and line.split()[-1].startswith("/")})
    except OSError:
        return None
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("openblas_get_corename", "scipy_openblas_get_corename64_",
                     "scipy_openblas_get_corename", "openblas_get_corename64_"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return None


def malloc_mode() -> str:
    """"tuned" where this process runs with the raised glibc thresholds, else "default"."""
    return "tuned" if all(os.environ.get(k) == v for k, v in MALLOC_ENV.items()) else "default"


def software(torch: Any = None) -> dict[str, Any]:
    import numba
    import numpy as np
    info: dict[str, Any] = {"python": sys.version.split()[0], "numpy": np.__version__,
                            "numba": numba.__version__}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older NumPy: no dict mode
        info["blas"] = None
    info["blas_core"] = openblas_core()
    if torch is not None:
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["torch_mkldnn"] = bool(torch.backends.mkldnn.is_available())
    return info


def probe(n: int, repeats: int, torch: Any = None) -> dict[str, Any]:
    """The machine description and the measured matmul rates (run in a worker process)."""
    from scratchgan.bench.timing import bench_pair, matmul_rate
    kv = lscpu()
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count() or 1))
    result: dict[str, Any] = {
        "cpu": kv.get("Model name") or platform.processor() or platform.machine(),
        "vendor": kv.get("Vendor ID"), "cpus": os.cpu_count(),
        "cores": kv.get("Core(s) per socket"), "sockets": kv.get("Socket(s)"),
        "threads_per_core": kv.get("Thread(s) per core"),
        "hypervisor": kv.get("Hypervisor vendor"), "platform": platform.platform(),
        "threads": {k: os.environ.get(k) for k in THREAD_ENV},
        "malloc": malloc_mode(), "malloc_env": {k: os.environ.get(k) for k in MALLOC_ENV},
        "software": software(torch),
        "theoretical": theoretical_peak(kv, threads),
        "matmul_numpy": matmul_rate("float32", n, repeats),
    }
    if torch is not None:
        a = torch.randn(n, n)
        out = torch.empty(n, n)
        r = bench_pair({"mm": lambda: torch.matmul(a, a, out=out)}, repeats, 0.05)["mm"]
        result["matmul_torch"] = {"n": n, "dtype": "float32", "median": 2 * n ** 3 / r["median_s"] / 1e9,
                                  "best": 2 * n ** 3 / r["min_s"] / 1e9}
    return result


# -- GPU (scratchgan bench --device cuda) ----------------------------------------------------

#: FP32 peak of the CUDA cores (not tensor cores: our kernels and the cuBLAS float32 GEMMs
#: without TF32 run there) for named cards: FP32 lanes x 2 FLOP (an FMA) x boost clock.
#: H100 SXM5: 132 SMs x 128 = 16,896 lanes at 1.98 GHz = 66.9 TFLOP/s (NVIDIA's H100
#: datasheet: "FP32 67 teraFLOPS"; per-unit table at
#: https://glennklockwood.com/garden/processors/h100). H100 PCIe: 114 SMs = 14,592 lanes at
#: 1.755 GHz = 51.2 TFLOP/s. H200 (SXM): the same GH100 chip and clocks as the H100 SXM with
#: HBM3e memory, 66.9 TFLOP/s (e.g. https://hmc-tech.com/gpu/nvidia-h100-vs-nvidia-h200-sxm-vs-nvidia-gb200).
#: The NVL variants (lower power, other clocks) are not in the table: pass --card or read
#: the measured GEMM rate.
GPU_CARDS = {
    "H100 SXM": {"lanes": 16896, "ghz": 1.98, "match": ("H100", "SXM|HBM3")},
    "H100 PCIe": {"lanes": 14592, "ghz": 1.755, "match": ("H100", "PCIE")},
    "H200": {"lanes": 16896, "ghz": 1.98, "match": ("H200", "")},
}


def card_peak(name: str | None, override: str | None = None) -> dict[str, Any] | None:
    """The FP32 peak of the named card (``override``, a key of GPU_CARDS) or of the card
    whose device name this is ("NVIDIA H100 80GB HBM3" -> "H100 SXM"); None if unknown."""
    import re
    key = override
    if key is None and name and "NVL" not in name.upper():   # NVL parts: other clocks
        upper = name.upper()
        for card, spec in GPU_CARDS.items():
            model, variant = spec["match"]
            if model in upper and (not variant or re.search(variant, upper)):
                key = card
                break
    if key is None:
        return None
    spec = GPU_CARDS[key]
    gflops = spec["lanes"] * 2 * spec["ghz"]
    return {"card": key, "gflops_fp32": gflops, "from": "--card" if override else "device name",
            "formula": f"{spec['lanes']:,} FP32 lanes x 2 FLOP x {spec['ghz']:g} GHz = "
                       f"{gflops / 1e3:.1f} TFLOP/s"}


def cuda_sync() -> None:
    """Wait for every queued kernel of the current GPU (CuPy's and PyTorch's alike)."""
    import cupy
    cupy.cuda.Device().synchronize()


def gpu_probe(n: int, repeats: int, torch: Any = None, card: str | None = None) -> dict[str, Any]:
    """The GPU, its software, the measured float32 GEMM rate of cuBLAS through CuPy (TF32
    off: the "measured peak") and, where PyTorch has CUDA, through PyTorch; the named
    card's FP32 peak."""
    import cupy
    from scratchgan.bench.timing import bench_pair
    from scratchgan_kernels.cuda import set_tf32
    dev = cupy.cuda.Device()
    props = cupy.cuda.runtime.getDeviceProperties(dev.id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    set_tf32(False)
    a = cupy.random.standard_normal((n, n), dtype=cupy.float32)
    r = bench_pair({"mm": lambda: cupy.matmul(a, a)}, repeats, 0.05, sync=cuda_sync)["mm"]
    flops = 2 * n ** 3
    result: dict[str, Any] = {
        "name": name, "compute_capability": dev.compute_capability,
        "memory_gib": props["totalGlobalMem"] / 2 ** 30,
        "sms": props.get("multiProcessorCount"),
        "cupy": cupy.__version__, "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
        "cuda_driver": cupy.cuda.runtime.driverGetVersion(),
        "matmul_cupy": {"n": n, "dtype": "float32", "tf32": False,
                        "median": flops / r["median_s"] / 1e9, "best": flops / r["min_s"] / 1e9},
        "card": card_peak(name, card),
    }
    if torch is not None and torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = False
        t = torch.randn(n, n, device=TORCH_DEVICE[CUDA.name])
        r = bench_pair({"mm": lambda: torch.matmul(t, t)}, repeats, 0.05, sync=cuda_sync)["mm"]
        result["matmul_torch"] = {"n": n, "dtype": "float32", "tf32": False,
                                  "median": flops / r["median_s"] / 1e9,
                                  "best": flops / r["min_s"] / 1e9}
        result["torch_cuda"] = torch.version.cuda
    return result
