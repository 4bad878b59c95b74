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
