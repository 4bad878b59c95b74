"""Finite-difference gradient checks, public so users can check their own ops.

Everything runs in float64 with central differences
    d/dt <f(x + t v), gy> at t = 0  ~  (<f(x + eps v), gy> - <f(x - eps v), gy>) / (2 eps)
against the analytic <grad, v>, with a *random* upstream gradient gy (an all-ones
gy lets a transpose that forgets to transpose pass).

mode="directional": one random direction v over all inputs at once: two function
evaluations, cheap. On a mismatch it falls back to the full check to name the
first wrong element. mode="full": every element of every input in turn.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from scratchgan.autograd.engine import grad
from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import get_array_module, to_numpy


class GradcheckError(AssertionError):
    """The analytic and the numerical gradients disagree."""


@dataclass
class GradcheckResult:
    """Outcome of a check: largest absolute and relative error over the compared values."""
    ok: bool
    max_abs_err: float
    max_rel_err: float
    message: str = ""


def _as_outputs(ys: Any) -> list[Tensor]:
    return list(ys) if isinstance(ys, (tuple, list)) else [ys]


def _float64_inputs(xs: Sequence[Any], check: str) -> list[Any]:
    """Copies of ``xs`` in float64; a ValueError naming ``check`` when ``xs`` is empty: a
    check with no input to differentiate with respect to would pass, checking nothing."""
    if not xs:
        raise ValueError(f"{check}: xs is empty, so there is no input to differentiate with "
                         "respect to and nothing to check")
    arrays = []
    for i, x in enumerate(xs):
        a = x.data if isinstance(x, Tensor) else x
        xp = get_array_module(a)
        a = xp.array(a, copy=True)  # _full perturbs it in place
        if a.dtype != np.float64:
            raise TypeError(f"gradient checks run in float64; input {i} has dtype {a.dtype}")
        arrays.append(a)
    return arrays


def _evaluate(f: Callable, arrays: Sequence[Any], gys: Sequence[Any]) -> float:
    """<f(arrays), gys>. The inputs require grad: f may differentiate inside itself."""
    ys = _as_outputs(f(*[Tensor(a, requires_grad=True) for a in arrays]))
    return float(sum(to_numpy((y.data * gy)).sum() for y, gy in zip(ys, gys) if y is not None))


def _analytic(f: Callable, arrays: Sequence[Any], gys: Sequence[Any] | None, rng) -> tuple:
    xs = [Tensor(a, requires_grad=True, name=f"x{i}") for i, a in enumerate(arrays)]
    ys = _as_outputs(f(*xs))
    if gys is None:
        gys = [get_array_module(y.data).asarray(rng.standard_normal(y.shape)) for y in ys]
    used = [(y, gy) for y, gy in zip(ys, gys) if y is not None and y.requires_grad]
    if not used:
        return [np.zeros(a.shape) for a in arrays], gys
    gxs = grad([y for y, _ in used], xs, [gy for _, gy in used], allow_unused=True)
    return [np.zeros(a.shape) if g is None else to_numpy(g.data) for a, g in zip(arrays, gxs)], gys


def _error(analytic: float, numeric: float, atol: float, rtol: float) -> tuple[float, float, bool]:
    abs_err = abs(analytic - numeric)
    rel_err = abs_err / max(abs(numeric), 1e-12)
    return abs_err, rel_err, abs_err <= atol + rtol * abs(numeric)


def check_backward(f: Callable, xs: Sequence[Any], gy: Any = None, mode: str = "directional",
                   eps: float = 1e-6, atol: float = 1e-6, rtol: float = 1e-4,
                   seed: int = 0, raise_on_failure: bool = True,
                   locate: bool = True) -> GradcheckResult:
    """Check the gradients of ``f(*xs)`` w.r.t. every array in ``xs`` by finite differences.

    Args:
        f: takes Tensors (one per array of ``xs``), returns a Tensor or a tuple of Tensors.
        xs: float64 arrays (or Tensors) to differentiate w.r.t., at least one (none is a
            ValueError); other arguments go in ``f``.
        gy: upstream gradient(s), one array per output; random normal when None.
        mode: ``"directional"`` (one random direction) or ``"full"`` (every element).
        locate: when a directional check fails, run the full check to name the first
            wrong element (two evaluations of ``f`` per element; False skips it).
    Raises:
        GradcheckError naming the input, the index and both values (unless
        ``raise_on_failure=False``, which returns the failed result).
    """
    if mode not in ("directional", "full"):
        raise ValueError(f"mode must be 'directional' or 'full', got {mode!r}")
    rng = np.random.default_rng(seed)
    arrays = _float64_inputs(xs, "check_backward")
    gys = None if gy is None else [get_array_module(a).asarray(a) for a in _as_outputs(gy)]
    gxs, gys = _analytic(f, arrays, gys, rng)
    result = (_directional(f, arrays, gxs, gys, rng, eps, atol, rtol) if mode == "directional"
              else _full(f, arrays, gxs, gys, eps, atol, rtol))
    if not result.ok and mode == "directional" and locate:
        full = _full(f, arrays, gxs, gys, eps, atol, rtol)
        result.message += "\n" + (full.message if not full.ok else
                                  "(element-wise check passed: the error is spread thin)")
    if not result.ok and raise_on_failure:
        raise GradcheckError(result.message)
    return result


def _directional(f, arrays, gxs, gys, rng, eps, atol, rtol) -> GradcheckResult:
    xp = get_array_module(*arrays)
    vs = [rng.standard_normal(a.shape) for a in arrays]
    norm = np.sqrt(sum(float((v * v).sum()) for v in vs)) or 1.0
    vs = [v / norm for v in vs]
    plus = _evaluate(f, [a + xp.asarray(v) * eps for a, v in zip(arrays, vs)], gys)
    minus = _evaluate(f, [a - xp.asarray(v) * eps for a, v in zip(arrays, vs)], gys)
    numeric = (plus - minus) / (2 * eps)
    analytic = float(sum((g * v).sum() for g, v in zip(gxs, vs)))
    abs_err, rel_err, ok = _error(analytic, numeric, atol, rtol)
    message = "" if ok else (f"gradient check failed along a random direction over all inputs: "
                             f"analytic {analytic:.10g}, numerical {numeric:.10g} "
                             f"(abs err {abs_err:.3g}, rel err {rel_err:.3g})")
    return GradcheckResult(ok, abs_err, rel_err, message)


def _full(f, arrays, gxs, gys, eps, atol, rtol) -> GradcheckResult:
    max_abs = max_rel = 0.0
    first_failure = ""
    for i, (a, g) in enumerate(zip(arrays, gxs)):
        for index in np.ndindex(*a.shape):
            saved = float(a[index])
            a[index] = saved + eps
            plus = _evaluate(f, arrays, gys)
            a[index] = saved - eps
            minus = _evaluate(f, arrays, gys)
            a[index] = saved
            numeric = (plus - minus) / (2 * eps)
            abs_err, rel_err, ok = _error(float(g[index]), numeric, atol, rtol)
            max_abs, max_rel = max(max_abs, abs_err), max(max_rel, rel_err)
            if not ok and not first_failure:
                first_failure = (f"gradient of input {i} (shape {a.shape}) at index {index}: "
                                 f"analytic {float(g[index]):.10g}, numerical {numeric:.10g} "
                                 f"(abs err {abs_err:.3g})")
    return GradcheckResult(not first_failure, max_abs, max_rel, first_failure)


def check_double_backward(f: Callable, xs: Sequence[Any], gy: Any = None, ggx: Any = None,
                          mode: str = "directional", eps: float = 1e-6, atol: float = 1e-5,
                          rtol: float = 1e-3, seed: int = 0,
                          raise_on_failure: bool = True, locate: bool = True) -> GradcheckResult:
    """Check second-order gradients: the first-order gradient map
    (xs, gy) -> grad(<f(xs), gy>, xs, create_graph=True) is itself checked with
    :func:`check_backward`, w.r.t. both the inputs and gy, against a random ``ggx``.
    """
    rng = np.random.default_rng(seed + 1)
    arrays = _float64_inputs(xs, "check_double_backward")
    outputs = _as_outputs(f(*[Tensor(a, requires_grad=True) for a in arrays]))
    xp = get_array_module(*arrays)
    gys = ([xp.asarray(rng.standard_normal(y.shape)) for y in outputs] if gy is None
           else [xp.asarray(g) for g in _as_outputs(gy)])
    n = len(arrays)

    def first_order(*tensors: Tensor) -> tuple[Tensor, ...]:
        inputs, upstream = tensors[:n], tensors[n:]
        ys = _as_outputs(f(*inputs))
        pairs = [(y, g) for y, g in zip(ys, upstream) if y is not None and y.requires_grad]
        gxs = grad([y for y, _ in pairs], list(inputs), [g for _, g in pairs],
                   create_graph=True, allow_unused=True)
        return tuple(g if g is not None else x * 0.0 for g, x in zip(gxs, inputs))

    return check_backward(first_order, arrays + gys, gy=ggx, mode=mode, eps=eps, atol=atol,
                          rtol=rtol, seed=seed + 2, raise_on_failure=raise_on_failure,
                          locate=locate)
