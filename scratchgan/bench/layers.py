"""The kernel table: every DCGAN-28 weight layer, forward, input gradient (dX) and weight
gradient (dW), on each backend present, timed alternately in one process.

Each backend runs the call its autograd makes for that product:

    ours (numpy, numba)  conv:  fwd conv2d, dX conv_transpose2d, dW conv2d_grad_weight
                         convT: fwd conv_transpose2d, dX conv2d, dW conv2d_grad_weight
                         linear: the backend's matmul kernel for x @ W.T, gy @ W, gy.T @ x
                         (numba: column blocks on the kernel workers; numpy: np.matmul), and
                         for an inner dimension of 1 (D.fc's dX) the broadcast product the
                         matmul op computes there
    PyTorch              F.conv2d / F.conv_transpose2d / F.linear forward;
                         aten.convolution_backward with one output mask per gradient
                         (what autograd calls), torch.mm for the linear gradients

No bias (it is a separate broadcast add in both libraries). Before timing, every
backend's result is compared with the first one's (``max_rel_diff``), so a row can only
time the same product everywhere.

On the GPU (``device="cuda"``) ours is the ``cuda`` backend (CuPy arrays; linear rows are
``cupy.matmul``, i.e. cuBLAS) and PyTorch runs on CUDA tensors (cuDNN), TF32 off in both;
every timed repeat is bracketed by a device synchronisation.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from scratchgan.bench.flops import Layer, dcgan28_layers
from scratchgan.backend import CPU, as_device
from scratchgan.bench.timing import (TORCH_DEVICE, bench_pair, foreign_load, snapshot,
                                     wait_quiet)

OPS = ("fwd", "dX", "dW")


def _ours(layer: Layer, backend: str, x: np.ndarray, W: np.ndarray,
          gy: np.ndarray) -> dict[str, Callable[[], Any]]:
    import scratchgan_kernels as K
    s, p, k = layer.s, layer.p, layer.k
    if layer.kind == "linear":
        mm = K.get("matmul", backend)
        dX = (lambda: gy * W) if gy.shape[1] == 1 else (lambda: mm(gy, W))
        return {"fwd": lambda: mm(x, W.T), "dX": dX, "dW": lambda: mm(gy.T, x)}
    conv, convT, gradW = (K.get(n, backend) for n in ("conv2d", "conv_transpose2d",
                                                       "conv2d_grad_weight"))
    if layer.kind == "conv":
        op = layer.size - ((layer.out_size - 1) * s - 2 * p + k)   # output padding of dX
        return {"fwd": lambda: conv(x, W, s, p), "dX": lambda: convT(gy, W, s, p, op),
                "dW": lambda: gradW(x, gy, k, s, p)}
    return {"fwd": lambda: convT(x, W, s, p, 0), "dX": lambda: conv(gy, W, s, p),
            "dW": lambda: gradW(gy, x, k, s, p)}


def _torch(torch: Any, layer: Layer, x: np.ndarray, W: np.ndarray,
           gy: np.ndarray, device: str = CPU.name) -> dict[str, Callable[[], Any]]:
    F = torch.nn.functional
    tx, tW, tgy = (torch.from_numpy(a).to(TORCH_DEVICE[device]) for a in (x, W, gy))
    if layer.kind == "linear":
        return {"fwd": lambda: F.linear(tx, tW), "dX": lambda: torch.mm(tgy, tW),
                "dW": lambda: torch.mm(tgy.t(), tx)}
    s, p = [layer.s] * 2, [layer.p] * 2
    transposed = layer.kind == "convT"
    backward = torch.ops.aten.convolution_backward

    def grad(i: int) -> Callable[[], Any]:
        mask = [i == 0, i == 1, False]
        return lambda: backward(tgy, tx, tW, None, s, p, [1, 1], transposed, [0, 0], 1, mask)[i]
    fwd = ((lambda: F.conv_transpose2d(tx, tW, None, s, p)) if transposed
           else (lambda: F.conv2d(tx, tW, None, s, p)))
    return {"fwd": fwd, "dX": grad(0), "dW": grad(1)}


def _arrays(layer: Layer, batch: int, dtype: str, rng: np.random.Generator):
    def arr(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(dtype)
    if layer.kind == "linear":
        return arr(batch, layer.cin), arr(*layer.weight_shape), arr(batch, layer.cout)
    return (arr(batch, layer.cin, layer.size, layer.size), arr(*layer.weight_shape),
            arr(batch, layer.cout, layer.out_size, layer.out_size))


def kernel_cases(batch: int, backends: list[str], torch: Any = None, dtype: str = "float32",
                 layers: list[Layer] | None = None, seed: int = 0,
                 device: str = CPU.name) -> list[dict[str, Any]]:
    """One case per (layer, op): {"layer", "label", "kind", "op", "flops", "fns": {backend:
    callable}}; ``device="cuda"``: the arrays on the GPU (the backends are then ["cuda"])."""
    rng = np.random.default_rng(seed)
    cases = []
    for layer in layers or dcgan28_layers():
        x, W, gy = _arrays(layer, batch, dtype, rng)
        if as_device(device).is_gpu:
            import cupy
            ours = [cupy.asarray(a) for a in (x, W, gy)]
        else:
            ours = [x, W, gy]
        per_backend = {b: _ours(layer, b, *ours) for b in backends}
        if torch is not None:
            per_backend["torch"] = _torch(torch, layer, x, W, gy, device)
        for op in OPS:
            cases.append({"layer": layer.key, "label": layer.label, "kind": layer.kind,
                          "op": op, "flops": 2 * batch * layer.macs_per_sample,
                          "fns": {b: ops[op] for b, ops in per_backend.items()}})
    return cases


def _as_array(y: Any) -> np.ndarray:
    if isinstance(y, np.ndarray):
        return y
    if hasattr(y, "get") and hasattr(y, "device"):      # a CuPy array
        return y.get()
    if hasattr(y, "cpu"):                               # a torch tensor, on any device
        return y.detach().cpu().numpy()
    return np.asarray(y)


def run_kernel_table(batch: int, backends: list[str], torch: Any = None, repeats: int = 15,
                     min_time: float = 0.02, max_wait: float = 60.0, dtype: str = "float32",
                     layers: list[Layer] | None = None,
                     progress: Callable[[str], None] | None = None,
                     device: str = CPU.name, threads: int | None = None) -> list[dict[str, Any]]:
    """Time every case; one row per (layer, op) with per-backend median/min and GFLOP/s.
    With ``threads``, the numba kernels run inside ``using_threads(threads)``, as in
    training (their chunk workers, one BLAS thread per product); the other columns run with
    the process's thread settings."""
    scopes = {}
    if threads is not None and "numba" in backends:
        from scratchgan.threads import using_threads
        scopes["numba"] = lambda: using_threads(threads)
    sync = None
    if as_device(device).is_gpu:
        from scratchgan.bench.machine import cuda_sync
        sync = cuda_sync
    rows = []
    for case in kernel_cases(batch, backends, torch, dtype, layers, device=device):
        fns = case["fns"]
        outs = {b: _as_array(fn()) for b, fn in fns.items()}   # (values only: no scope needed)
        first = next(iter(outs.values()))
        scale = float(np.max(np.abs(first))) or 1.0
        diff = max(float(np.max(np.abs(o - first))) / scale for o in outs.values())
        load = wait_quiet(max_wait)
        s0 = snapshot()
        timed = bench_pair(fns, repeats, min_time, sync=sync,
                           scopes={b: sc for b, sc in scopes.items() if b in fns})
        load = max(load or 0.0, foreign_load(s0, snapshot()))
        results = {}
        for b, r in timed.items():
            results[b] = {"median_s": r["median_s"], "min_s": r["min_s"],
                          "gflops": case["flops"] / r["median_s"] / 1e9,
                          "gflops_best": case["flops"] / r["min_s"] / 1e9,
                          "inner": r["inner"], "minor_faults_per_call": r["minor_faults_per_call"]}
        row = {k: case[k] for k in ("layer", "label", "kind", "op", "flops")}
        row.update(results=results, max_rel_diff=diff, foreign_load_cores=load)
        rows.append(row)
        if progress:
            progress(f"  {case['label']} {case['op']}: " + ", ".join(
                f"{b} {1e3 * r['median_s']:.3f} ms" for b, r in results.items()))
    return rows
