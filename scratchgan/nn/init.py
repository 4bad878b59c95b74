"""Parameter initialisation, in place, drawn from ``scratchgan.random.get_rng()``
(so ``scratchgan.random.manual_seed`` makes it reproducible).

Fans of a weight of shape (d0, d1, *kernel), with receptive field k = prod(kernel):
    fan_in = d1 * k,  fan_out = d0 * k
(a Linear weight (out, in) has fan_in = in; a Conv2d weight (OC, C, KH, KW) has
fan_in = C KH KW; for a ConvTranspose2d weight (C, OC, KH, KW) this convention
gives fan_in = OC KH KW, as in PyTorch).

    xavier (Glorot & Bengio 2010):  std = gain * sqrt(2 / (fan_in + fan_out))
    kaiming (He et al. 2015):       std = gain / sqrt(fan),  fan = fan_in or fan_out
A uniform draw with that std has bound sqrt(3) * std.
"""
from __future__ import annotations

import math
from typing import Any

from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import get_array_module
from scratchgan.nn.validation import check_real
from scratchgan.random import get_rng

_LINEAR_GAINS = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                 "conv_transpose2d", "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps the activations' variance steady through ``nonlinearity``:
    1 for linear maps and sigmoid, 5/3 for tanh, sqrt(2) for relu,
    sqrt(2 / (1 + slope^2)) for leaky_relu (slope ``param``, default 0.01), 3/4 for selu."""
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        slope = check_real("calculate_gain", "the leaky_relu slope", slope)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; known: "
                     f"{', '.join(_LINEAR_GAINS + ('tanh', 'relu', 'leaky_relu', 'selu'))}")


def calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of 2 or more dimensions; see the module docstring."""
    if tensor.ndim < 2:
        raise ValueError(f"fans need a weight of 2 or more dimensions, got shape {tensor.shape}")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fill(tensor: Tensor, values: Any) -> Tensor:
    """Write ``values`` into ``tensor.data`` in place (cast to its dtype), bumping its
    ``_version``; returns tensor."""
    tensor.data[...] = get_array_module(tensor.data).asarray(values, dtype=tensor.dtype)
    tensor._version += 1
    return tensor


def _check(tensor: Any, fn: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{fn} fills a Tensor or Parameter in place, got {type(tensor).__name__}")


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with draws from N(mean, std^2); mean finite, std finite and >= 0."""
    _check(tensor, "normal_")
    mean = check_real("normal_", "mean", mean)
    std = check_real("normal_", "std", std, lambda v: v >= 0, "a finite number >= 0")
    return _fill(tensor, get_rng().normal(mean, std, tensor.shape))


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with draws from U(a, b), a <= b both finite."""
    _check(tensor, "uniform_")
    a, b = check_real("uniform_", "a", a), check_real("uniform_", "b", b)
    if not a <= b:
        raise ValueError(f"uniform_: need a <= b, got a={a}, b={b}")
    return _fill(tensor, get_rng().uniform(a, b, tensor.shape))


def zeros_(tensor: Tensor) -> Tensor:
    _check(tensor, "zeros_")
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    _check(tensor, "ones_")
    return _fill(tensor, 1)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """U(-b, b) with b = sqrt(3) * gain / sqrt(fan); ``a`` is the leaky ReLU slope of
    the gain. (a = sqrt(5) gives b = 1 / sqrt(fan_in): the layers' default.)"""
    _check(tensor, "kaiming_uniform_")
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    """N(0, std^2) with std = gain / sqrt(fan)."""
    _check(tensor, "kaiming_normal_")
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))


def default_uniform_(weight: Tensor, bias: Tensor | None = None) -> None:
    """The default of Linear and the conv layers: weight and bias ~ U(-b, b) with
    b = 1 / sqrt(fan_in) (``kaiming_uniform_`` with a = sqrt(5), as in PyTorch)."""
    kaiming_uniform_(weight, a=math.sqrt(5.0))
    if bias is not None:
        bound = 1.0 / math.sqrt(calculate_fan_in_and_fan_out(weight)[0])
        uniform_(bias, -bound, bound)

