"""Kernel benchmark: the numpy reference and the numba backend side by side, in one process.

For every DCGAN-28 layer (batch 64) it times the forward op, the input gradient and the
weight gradient as the autograd ops call them, plus batch norm (2d over the layer shapes,
1d over (64, 12544)), leaky ReLU and the fused Adam step, and prints median and min time
per call, GFLOP/s (conv: 2 * multiply-adds) or GB/s (the others: bytes read + written,
nominal), the percentage of this machine's measured BLAS matmul rate, and the ratio
numba / numpy of the median times (below 1: numba is faster).

Run:  python benchmarks/kernels.py [--dtype float32] [--repeats 15] [--json out.json]
                                    [--only conv] [--threads 2] [--malloc tuned]

The two backends are timed alternately (one repeat of each in turn), so a load change on
a shared machine hits both; before each row the script waits (at most --max-wait seconds)
until other processes use less than 0.3 cores, and marks rows measured under more foreign
load with '*'. The timing helper and the load monitor live in ``scratchgan.bench.timing``
(shared with ``scratchgan bench``, which adds PyTorch and the training step). Speed is
measured here, never asserted in the test suite.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import sys
import time


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--min-time", type=float, default=0.02,
                   help="seconds per timed repeat; fast kernels loop inside a repeat")
    p.add_argument("--only", default="", help="run the rows whose name contains this")
    p.add_argument("--threads", type=int, default=2,
                   help="BLAS / Numba threads (environment set before NumPy loads)")
    p.add_argument("--malloc", default="default", choices=["default", "tuned"],
                   help="tuned: glibc mmap/trim thresholds raised, as in shared/reference")
    p.add_argument("--max-wait", type=float, default=60.0,
                   help="seconds to wait for a quiet machine before each row")
    p.add_argument("--json", default="", help="also write the results to this file")
    return p.parse_args()


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ.setdefault(var, str(ARGS.threads))
    if ARGS.malloc == "tuned":
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 64 * 2 ** 20)   # M_MMAP_THRESHOLD
        libc.mallopt(-1, 2 ** 30)        # M_TRIM_THRESHOLD

import numpy as np  # noqa: E402

import scratchgan_kernels as K  # noqa: E402
# the timing helper and load monitor shared with `scratchgan bench`
from scratchgan.bench.timing import bench_pair, foreign_load, matmul_rate, wait_quiet  # noqa: E402
from scratchgan.bench.timing import snapshot as _snapshot  # noqa: E402


# -- the cases --------------------------------------------------------------------

# (name, C, OC, H (input of the conv2d view), kernel, stride, padding, transposed)
LAYERS = [
    ("D Conv 1->64 k4s2p1 28->14", 1, 64, 28, 4, 2, 1, False),
    ("D Conv 64->128 k4s2p1 14->7", 64, 128, 14, 4, 2, 1, False),
    ("G ConvT 256->128 k4s2p1 7->14", 256, 128, 7, 4, 2, 1, True),
    ("G ConvT 128->64 k4s2p1 14->28", 128, 64, 14, 4, 2, 1, True),
    ("G Conv 64->1 k3s1p1 28x28", 64, 1, 28, 3, 1, 1, False),
]
BN_SHAPES = [("BN2d (64,128,7,7)", (64, 128, 7, 7)), ("BN2d (64,128,14,14)", (64, 128, 14, 14)),
             ("BN2d (64,64,28,28)", (64, 64, 28, 28)), ("BN1d (64,12544)", (64, 12544))]
N = 64


def conv_cases(dtype, rng):
    """(row name, {backend: callable}, flops, bytes) for the three ops of each conv layer."""
    rows = []
    for name, C, OC, H, k, s, p, transposed in LAYERS:
        def arr(*shape):
            return rng.standard_normal(shape).astype(dtype)
        if not transposed:   # conv2d x (N, C, H, H) -> y (N, OC, OH, OH)
            OH = (H + 2 * p - k) // s + 1
            x, W, gy = arr(N, C, H, H), arr(OC, C, k, k), arr(N, OC, OH, OH)
            macs = N * OC * C * k * k * OH * OH
            op = H - ((OH - 1) * s - 2 * p + k)
            ops = {"fwd": ("conv2d", (x, W, s, p)),
                   "dX": ("conv_transpose2d", (gy, W, s, p, op)),
                   "dW": ("conv2d_grad_weight", (x, gy, k, s, p))}
        else:                # conv_transpose2d x (N, C, H, H) -> y (N, OC, OH, OH)
            OH = (H - 1) * s - 2 * p + k
            x, W, gy = arr(N, C, H, H), arr(C, OC, k, k), arr(N, OC, OH, OH)
            macs = N * OC * C * k * k * H * H
            ops = {"fwd": ("conv_transpose2d", (x, W, s, p, 0)),
                   "dX": ("conv2d", (gy, W, s, p)),
                   "dW": ("conv2d_grad_weight", (gy, x, k, s, p))}
        for what, (kernel, args) in ops.items():
            fns = {b: (lambda f=K.get(kernel, b), a=args: f(*a)) for b in ("numpy", "numba")}
            rows.append((f"{name} {what}", kernel, fns, 2 * macs, None))
    return rows


def other_cases(dtype, rng):
    rows = []
    isz = np.dtype(dtype).itemsize
    for name, shape in BN_SHAPES:
        x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
        gy = rng.standard_normal(shape).astype(dtype)
        g = rng.standard_normal(shape[1]).astype(dtype)
        b = rng.standard_normal(shape[1]).astype(dtype)
        fwd = {bk: (lambda f=K.get("batch_norm_forward", bk), a=(x, g, b, 1e-5): f(*a))
               for bk in ("numpy", "numba")}
        bwd = {bk: (lambda f=K.get("batch_norm_backward", bk), a=(x, g, gy, 1e-5): f(*a))
               for bk in ("numpy", "numba")}
        rows.append((f"{name} fwd", "batch_norm_forward", fwd, None, 2 * x.size * isz))
        rows.append((f"{name} bwd", "batch_norm_backward", bwd, None, 3 * x.size * isz))
    x = rng.standard_normal((N, 128, 14, 14)).astype(dtype)
    gy = rng.standard_normal(x.shape).astype(dtype)
    rows.append(("LeakyReLU (64,128,14,14) fwd", "leaky_relu",
                 {bk: (lambda f=K.get("leaky_relu", bk): f(x, 0.2)) for bk in ("numpy", "numba")},
                 None, 2 * x.size * isz))
    rows.append(("LeakyReLU (64,128,14,14) bwd", "leaky_relu_grad",
                 {bk: (lambda f=K.get("leaky_relu_grad", bk): f(x, gy, 0.2))
                  for bk in ("numpy", "numba")}, None, 3 * x.size * isz))
    n = 2_000_000   # about the generator's parameter count
    state = {bk: [rng.standard_normal(n).astype(dtype), np.zeros(n, dtype), np.zeros(n, dtype)]
             for bk in ("numpy", "numba")}
    grad = rng.standard_normal(n).astype(dtype)
    rows.append(("Adam step (2M params)", "adam_update",
                 {bk: (lambda f=K.get("adam_update", bk), s=state[bk]:
                       f(s[0], grad, s[1], s[2], 2e-4, 0.5, 0.999, 1e-8, 10))
                  for bk in ("numpy", "numba")}, None, 7 * n * isz))
    return rows


def main() -> None:
    args = ARGS
    dtype = np.dtype(args.dtype)
    rng = np.random.default_rng(0)
    if "numba" not in K.available_backends():
        sys.exit("the numba backend is not available here (is numba installed?)")
    t0 = time.perf_counter()
    cases = conv_cases(dtype, rng) + other_cases(dtype, rng)
    cases = [c for c in cases if args.only.lower() in c[0].lower()]
    # compile (or load from the cache) before any timing
    for _, _, fns, _, _ in cases:
        fns["numba"]()
    compile_s = time.perf_counter() - t0
    peak = matmul_rate(dtype)["median"]
    print(f"numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"{os.environ.get('OPENBLAS_NUM_THREADS')} BLAS threads, dtype {dtype}, "
          f"malloc {args.malloc}; numba compile/cache load {compile_s:.1f} s; "
          f"BLAS matmul 2048: {peak:.0f} GFLOP/s (= 100% peak)")
    print(f"times per call, median (min) over {args.repeats} repeats; "
          f"ratio = numba / numpy median time (< 1: numba faster)\n")
    head = (f"{'case':<38} {'numpy ms':>16} {'numba ms':>16} {'numpy':>9} {'numba':>9} "
            f"{'%peak':>6} {'ratio':>6}")
    print(head)
    print("-" * len(head))
    results = []
    for name, kernel, fns, flops, nbytes in cases:
        load = wait_quiet(args.max_wait)
        s0 = _snapshot()
        r = bench_pair(fns, args.repeats, args.min_time)
        load = max(load or 0.0, foreign_load(s0, _snapshot()))
        rate = {}
        for bk in fns:
            t = r[bk]["median_s"]
            rate[bk] = (flops / t / 1e9) if flops else (nbytes / t / 1e9)
        unit = "GF/s" if flops else "GB/s"
        pct = f"{100 * rate['numba'] / peak:5.0f}%" if flops else ""
        ratio = r["numba"]["median_s"] / r["numpy"]["median_s"]
        mark = "*" if load > 0.3 else " "

        def ms(bk):
            return f"{1e3 * r[bk]['median_s']:7.3f} ({1e3 * r[bk]['min_s']:6.3f})"
        print(f"{name:<38} {ms('numpy'):>16} {ms('numba'):>16} "
              f"{rate['numpy']:5.0f}{unit[:2]:>4} {rate['numba']:5.0f}{unit[:2]:>4} "
              f"{pct:>6} {ratio:6.2f}{mark}", flush=True)
        results.append({"case": name, "kernel": kernel, "flops": flops, "bytes": nbytes,
                        "numpy": r["numpy"], "numba": r["numba"], "ratio": ratio,
                        "rate_unit": unit, "rate": rate, "foreign_load_cores": load})
    print("\n* other processes used more than 0.3 cores during the row; "
          "GF = GFLOP/s, GB = GB/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"dtype": str(dtype), "threads": args.threads, "malloc": args.malloc,
                       "matmul_gflops": peak, "compile_s": compile_s, "rows": results}, f,
                      indent=1)


if __name__ == "__main__":
    main()
