"""The cost of one Function call (the ``overhead`` section): ours against PyTorch eager on
arrays so small that the arithmetic is negligible and what is timed is the machinery
around it (argument checks, dispatch, Tensor and graph-node creation, the backward pass's
bookkeeping).

Two chains, each built afresh on every call and then differentiated:

    elementwise  x (4, 4) float32; N ops cycling y = y * w, y = y + w, y = tanh(y)
                 (w a (4, 4) tensor that requires a gradient, like x)
    conv-bn-act  x (2, 3, 8, 8); N ops cycling conv2d (3 -> 3, 3x3, padding 1, no bias),
                 batch_norm (batch statistics, learned gamma and beta), leaky_relu(0.2)

Per chain two modes: "forward" (the ops with the graph recorded, no backward) and
"forward+backward" (then ``y.sum().backward()``, gradients into x and every parameter).
Time per op = time of the whole call / N (the final sum and its backward are counted in
the call, not in N: one op in N). Gradients are reset to None before each call, as a
training step's ``zero_grad`` does, so no call accumulates into the last one's.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

CHAIN_OPS = 201            # a multiple of the 3-op cycle
CHAINS = {"elementwise": "mul, add, tanh on (4, 4)",
          "conv-bn-act": "conv2d 3x3, batch_norm, leaky_relu on (2, 3, 8, 8)"}
MODES = ("forward", "forward+backward")


def _arrays(chain: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    def arr(*shape: int, scale: float = 1.0, loc: float = 0.0) -> np.ndarray:
        return (loc + scale * rng.standard_normal(shape)).astype(np.float32)
    if chain == "elementwise":
        return {"x": arr(4, 4), "w": arr(4, 4, scale=0.1, loc=1.0)}
    return {"x": arr(2, 3, 8, 8), "W": arr(3, 3, 3, 3, scale=0.2),
            "gamma": arr(3, scale=0.02, loc=1.0), "beta": arr(3, scale=0.02)}


def ours_chain(chain: str, backward: bool, n_ops: int = CHAIN_OPS,
               seed: int = 0) -> Callable[[], Any]:
    """One call of the chain with our Functions (see the module docstring)."""
    import scratchgan.functions as F
    from scratchgan import Tensor
    leaves = {k: Tensor(v, requires_grad=True) for k, v in
              _arrays(chain, np.random.default_rng(seed)).items()}

    if chain == "elementwise":
        x, w = leaves["x"], leaves["w"]

        def forward() -> Any:
            y = x
            for i in range(n_ops):
                k = i % 3
                y = F.mul(y, w) if k == 0 else F.add(y, w) if k == 1 else F.tanh(y)
            return y
    else:
        x, W, gamma, beta = (leaves[k] for k in ("x", "W", "gamma", "beta"))

        def forward() -> Any:
            y = x
            for i in range(n_ops):
                k = i % 3
                y = (F.conv2d(y, W, None, 1, 1) if k == 0
                     else F.batch_norm(y, gamma, beta, training=True) if k == 1
                     else F.leaky_relu(y, 0.2))
            return y

    if not backward:
        return forward

    def call() -> Any:
        for t in leaves.values():
            t.grad = None
        y = F.sum(forward())
        y.backward()
        return y
    return call


def torch_chain(torch: Any, chain: str, backward: bool, n_ops: int = CHAIN_OPS,
                seed: int = 0) -> Callable[[], Any]:
    """The same chain with PyTorch eager ops on CPU tensors."""
    Fn = torch.nn.functional
    leaves = {k: torch.from_numpy(v).requires_grad_(True) for k, v in
              _arrays(chain, np.random.default_rng(seed)).items()}

    if chain == "elementwise":
        x, w = leaves["x"], leaves["w"]

        def forward() -> Any:
            y = x
            for i in range(n_ops):
                k = i % 3
                y = torch.mul(y, w) if k == 0 else torch.add(y, w) if k == 1 else torch.tanh(y)
            return y
    else:
        x, W, gamma, beta = (leaves[k] for k in ("x", "W", "gamma", "beta"))

        def forward() -> Any:
            y = x
            for i in range(n_ops):
                k = i % 3
                y = (Fn.conv2d(y, W, None, 1, 1) if k == 0
                     else Fn.batch_norm(y, None, None, gamma, beta, training=True) if k == 1
                     else Fn.leaky_relu(y, 0.2))
            return y

    if not backward:
        return forward

    def call() -> Any:
        for t in leaves.values():
            t.grad = None
        y = forward().sum()
        y.backward()
        return y
    return call


def run_overhead(threads: int, torch: Any, repeats: int, min_time: float,
                 max_wait: float, n_ops: int = CHAIN_OPS) -> list[dict[str, Any]]:
    """Rows {"chain", "label", "mode", "n_ops", "results": {"ours"|"torch": {"median_s",
    "min_s", "us_per_op", ...}}, "foreign_load_cores"}: ours and PyTorch timed alternately
    (one repeat each in turn) in this process, ours inside ``using_threads(threads)``."""
    from scratchgan.bench.timing import bench_pair, foreign_load, snapshot, wait_quiet
    from scratchgan.threads import using_threads
    rows = []
    for chain in CHAINS:
        for mode in MODES:
            backward = mode == "forward+backward"
            fns = {"ours": ours_chain(chain, backward, n_ops)}
            scopes = {"ours": lambda: using_threads(threads)}
            if torch is not None:
                fns["torch"] = torch_chain(torch, chain, backward, n_ops)
            load = wait_quiet(max_wait)
            s0 = snapshot()
            res = bench_pair(fns, repeats, min_time, scopes=scopes)
            load = max(load or 0.0, foreign_load(s0, snapshot()))
            for r in res.values():
                r["us_per_op"] = 1e6 * r["median_s"] / n_ops
                r["us_per_op_min"] = 1e6 * r["min_s"] / n_ops
                del r["times_s"]
            row = {"chain": chain, "label": CHAINS[chain], "mode": mode, "n_ops": n_ops,
                   "results": res, "foreign_load_cores": load}
            if "torch" in res:
                row["vs_torch"] = res["ours"]["median_s"] / res["torch"]["median_s"]
            rows.append(row)
    return rows
