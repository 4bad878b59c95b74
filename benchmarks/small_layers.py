"""The small DCGAN layers (7x7 and 14x14 maps): how to cut their work, measured side by side.

The issue: BLAS on im2col-style matrices is weak where the maps are small. For the layers
whose maps are 7x7 or 14x14 (D's 64->128 conv, 14 -> 7; G's 256->128 transposed conv,
7 -> 14) this times the numba kernels' forward, input gradient and weight gradient at
batch 64 in the variants that can be chosen without new code:

* chunk sizes: 1 sample per chunk (many small products), the default (about 2^20 column
  values and at least 8 chunks), and the whole batch in one chunk (one large product
  across the batch: larger GEMMs, but no second worker);
* the input's layout: channels-last (what a network hands over) or C order (one
  conversion per call, the cost that channels-last removed);
* PyTorch (oneDNN) on the same layer, where it is installed, with the same threads.

Every variant of a row is timed alternately in one process (``bench_pair``), so a load
change hits all of them; GFLOP/s counts 2 x multiply-adds, "% peak" divides by this
machine's measured float32 matmul rate with the same threads.

Run:  python benchmarks/small_layers.py [--threads 2] [--repeats 15] [--json out.json]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from unittest import mock


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="kernel workers and torch threads")
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--json", help="write the rows to this file")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[key] = str(args.threads)      # before NumPy and PyTorch load
    import numpy as np

    from scratchgan.bench.timing import bench_pair, matmul_rate
    from scratchgan.threads import using_threads
    from scratchgan_kernels.cpu import conv as nb

    torch = None
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(args.threads)
        except ImportError:
            pass
    rng = np.random.default_rng(0)
    N = args.batch

    def channels_last(a):
        return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)

    def f32(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    # (name, MACs, {variant: callable on (x, W, gy)}) per op; x/gy in the given layout
    layers = {
        "D conv 64->128 k4s2p1 14->7": dict(x=f32(N, 64, 14, 14), W=f32(128, 64, 4, 4),
                                             gy=f32(N, 128, 7, 7), transposed=False),
        "G convT 256->128 k4s2p1 7->14": dict(x=f32(N, 256, 7, 7), W=f32(256, 128, 4, 4),
                                              gy=f32(N, 128, 14, 14), transposed=True),
    }

    def ops(layer):
        x, W, gy = layer["x"], layer["W"], layer["gy"]
        if layer["transposed"]:
            return {"fwd": (lambda x, gy: nb.conv_transpose2d(x, W, 2, 1), "x"),
                    "dX": (lambda x, gy: nb.conv2d(gy, W, 2, 1), "gy"),
                    "dW": (lambda x, gy: nb.conv2d_grad_weight(gy, x, 4, 2, 1), "both")}
        return {"fwd": (lambda x, gy: nb.conv2d(x, W, 2, 1), "x"),
                "dX": (lambda x, gy: nb.conv_transpose2d(gy, W, 2, 1), "gy"),
                "dW": (lambda x, gy: nb.conv2d_grad_weight(x, gy, 4, 2, 1), "both")}

    def torch_op(layer, op):
        x, W, gy = (torch.from_numpy(np.ascontiguousarray(a)).contiguous(
            memory_format=torch.channels_last) for a in (layer["x"], layer["W"], layer["gy"]))
        F = torch.nn.functional
        if layer["transposed"]:
            return {"fwd": lambda: F.conv_transpose2d(x, W, stride=2, padding=1),
                    "dX": lambda: F.conv2d(gy, W, stride=2, padding=1),
                    "dW": lambda: torch.ops.aten.convolution_backward(
                        gy, x, W, None, [2, 2], [1, 1], [1, 1], True, [0, 0], 1,
                        [False, True, False])[1]}[op]
        return {"fwd": lambda: F.conv2d(x, W, stride=2, padding=1),
                "dX": lambda: F.conv_transpose2d(gy, W, stride=2, padding=1),
                "dW": lambda: torch.ops.aten.convolution_backward(
                    gy, x, W, None, [2, 2], [1, 1], [0, 0], False, [0, 0], 1,
                    [False, True, False])[1]}[op]

    chunkings = {"1 sample/chunk": dict(CHUNK_ELEMENTS=1, MIN_CHUNKS=N),
                 "default chunks": {},
                 "whole batch": dict(CHUNK_ELEMENTS=1 << 40, MIN_CHUNKS=1)}

    def with_chunks(settings):
        @contextlib.contextmanager
        def scope():
            with using_threads(args.threads), contextlib.ExitStack() as stack:
                for name, value in settings.items():
                    stack.enter_context(mock.patch.object(nb, name, value))
                yield
        return scope

    peak = matmul_rate("float32", 2048, 3)["median"]
    print(f"float32 matmul peak, {args.threads} threads: {peak:.1f} GFLOP/s")
    rows = []
    for name, layer in layers.items():
        macs = N * (layer["x"].shape[1] * layer["W"].shape[1 if layer["transposed"] else 0]
                    * 16 * (layer["x"].shape[2] if layer["transposed"] else layer["gy"].shape[2]) ** 2)
        xl, gyl = channels_last(layer["x"]), channels_last(layer["gy"])
        for op, (fn, reads) in ops(layer).items():
            fns, scopes = {}, {}
            for label, settings in chunkings.items():
                fns[label] = (lambda fn=fn: fn(xl, gyl))
                scopes[label] = with_chunks(settings)
            fns["default, C-order input"] = lambda fn=fn: fn(layer["x"], layer["gy"])
            scopes["default, C-order input"] = with_chunks({})
            if torch is not None:
                fns["torch channels-last"] = torch_op(layer, op)
            timed = bench_pair(fns, args.repeats, 0.02, scopes=scopes)
            for label, r in timed.items():
                gflops = 2 * macs / r["median_s"] / 1e9
                rows.append({"layer": name, "op": op, "variant": label,
                             "median_ms": 1e3 * r["median_s"], "min_ms": 1e3 * r["min_s"],
                             "gflops": gflops, "pct_peak": 100 * gflops / peak})
                print(f"{name:32s} {op:4s} {label:24s} {1e3 * r['median_s']:8.2f} ms "
                      f"{gflops:7.1f} GFLOP/s {100 * gflops / peak:5.1f}% peak")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"peak_gflops": peak, "threads": args.threads, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
