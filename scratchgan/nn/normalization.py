"""Batch normalization layers (Ioffe & Szegedy 2015).

Per channel c, over the m = N * prod(spatial) values of the batch:
    training:  y = gamma * (x - mean_B) / sqrt(var_B + eps) + beta   (batch statistics,
               differentiated), then running = (1 - momentum) running + momentum batch,
               with the unbiased batch variance m / (m - 1) var_B
    eval:      y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta
The layer's ``training`` flag (``train()`` / ``eval()``) picks the mode.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from scratchgan import functions as F
from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import to_numpy
from scratchgan.config import no_grad
from scratchgan.nn.module import Module
from scratchgan.nn.parameter import Parameter
from scratchgan.nn.validation import check_positive_int, check_real


_LAYOUTS = {2: "(N, C)", 3: "(N, C, L)", 4: "(N, C, H, W)"}
# (buffer, which values are valid, the rule in words): what BatchNorm.load_state_dict takes
_STATISTIC_RULES = (
    ("running_mean", np.isfinite, "a running mean must be finite"),
    ("running_var", lambda a: np.isfinite(a) & (a >= 0), "a running variance must be finite "
                                                         "and >= 0"),
    ("num_batches_tracked", lambda a: a >= 0, "a count of batches must be >= 0"),
)


class BatchNorm(Module):
    """Base of BatchNorm1d and BatchNorm2d: parameters weight (gamma, ones) and bias
    (beta, zeros), buffers running_mean (zeros), running_var (ones) and
    num_batches_tracked (the number of training-mode forwards). ``eps`` must be positive
    and finite, ``momentum`` in [0, 1]."""

    input_ndims: tuple[int, ...]  # the accepted numbers of input dimensions

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = check_positive_int(name, "num_features", num_features)
        self.eps = check_real(name, "eps", eps, lambda v: v > 0, "positive and finite")
        self.momentum = check_real(name, "momentum", momentum, lambda v: 0 <= v <= 1, "in [0, 1]")
        self.weight = Parameter(np.ones(num_features, np.float32))
        self.bias = Parameter(np.zeros(num_features, np.float32))
        self.register_buffer("running_mean", np.zeros(num_features, np.float32))
        self.register_buffer("running_var", np.ones(num_features, np.float32))
        self.register_buffer("num_batches_tracked", np.array(0, np.int64))

    def forward(self, x: Any, slope: float | None = None) -> Tensor:
        """Normalize x; with ``slope``, follow with leaky_relu(., slope) as one fused op
        (``nn.Sequential`` passes it for a following LeakyReLU or ReLU)."""
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim not in self.input_ndims or x.shape[1] != self.num_features:
            expected = " or ".join(_LAYOUTS[n].replace("C", str(self.num_features))
                                   for n in self.input_ndims)
            raise ValueError(f"{type(self).__name__}({self.num_features}) expects input of shape "
                             f"{expected}, got {x.shape}")
        y = F.batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var,
                         training=self.training, momentum=self.momentum, eps=self.eps,
                         slope=slope)
        if self.training:
            self.num_batches_tracked += 1
        return y

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum:g}"

    def _state_problems(self, prefix: str, values: dict[str, Any]) -> list[str]:
        """Running statistics no batch can give are refused (eval mode would turn them into
        NaN outputs): running_mean must be finite, running_var finite and >= 0,
        num_batches_tracked >= 0. One line per bad buffer, naming its key, the first bad
        entry and its value."""
        problems = []
        for name, ok, rule in _STATISTIC_RULES:
            key = f"{prefix}.{name}" if prefix else name
            if key not in values:
                continue
            a = to_numpy(values[key])
            bad = np.flatnonzero(~ok(a))
            if bad.size:
                i = np.unravel_index(bad[0], a.shape)
                where = f"[{', '.join(map(str, i))}]" if a.ndim else ""
                problems.append(f"{key}{where} is {a[i].item()!r} in the checkpoint ({rule})")
        return problems


class BatchNorm1d(BatchNorm):
    """Batch norm of features (N, C) or sequences (N, C, L), per channel C."""
    input_ndims = (2, 3)


class BatchNorm2d(BatchNorm):
    """Batch norm of images (N, C, H, W), per channel C."""
    input_ndims = (4,)


def estimate_batch_norm_statistics(module: Module, forward: Callable[[], Any],
                                   batches: int) -> None:
    """Set the running statistics of every BatchNorm in ``module`` to their average over
    ``batches`` calls of ``forward()`` (which runs ``module`` on one batch), in training
    mode and without a graph; ``module`` is left in eval mode.

    Call k (k = 1, 2, ...) runs with momentum 1/k, so after K calls
        running = (1/K) sum_k statistic_k,
    the plain average of the batch means and unbiased variances. This is for weights
    whose running statistics belong to other weights, such as an exponential moving
    average of a generator's weights ("standing statistics", Brock et al. 2019).
    """
    layers = [m for m in module.modules() if isinstance(m, BatchNorm)]
    momenta = [m.momentum for m in layers]
    module.train()
    try:
        with no_grad():
            for k in range(1, batches + 1):
                for m in layers:
                    m.momentum = 1.0 / k
                forward()
    finally:
        for m, momentum in zip(layers, momenta):
            m.momentum = momentum
        module.eval()


class MinibatchStd(Module):
    """Minibatch standard deviation (Karras et al. 2018), a feature that lets D see the
    spread of the samples it scores together: for x of shape (N, C, ...),

        s = mean over (C, ...) of sqrt(var_n x + eps),  var_n over the N samples,

    appended to every sample as one more channel (constant over the spatial axes):
    (N, C, ...) -> (N, C + 1, ...). A generator that collapses onto a few modes makes s
    small where real batches make it large, so D can tell them apart. Like batch norm it
    couples the samples of a batch; built from Functions, it is differentiable to any
    order. ``eps`` must be positive and finite."""

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = check_real("MinibatchStd", "eps", eps, lambda v: v > 0, "positive and finite")

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim < 2 or x.shape[0] < 2:
            raise ValueError(f"MinibatchStd needs (N, C, ...) with N >= 2 samples, got "
                             f"shape {x.shape}")
        centred = x - F.mean(x, axis=0, keepdims=True)
        spread = F.mean(F.sqrt(F.mean(centred * centred, axis=0) + self.eps))
        plane = (x.shape[0], 1) + x.shape[2:]
        return F.concat([x, F.broadcast_to(F.reshape(spread, (1,) * x.ndim), plane)], axis=1)

    def extra_repr(self) -> str:
        return f"eps={self.eps:g}"
