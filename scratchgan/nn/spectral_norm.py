"""Spectral normalization (Miyato et al. 2018): divide a layer's weight by its
largest singular value, so the layer is (about) 1-Lipschitz.

The weight, viewed as a matrix W (rows: the output channels), has spectral norm
sigma(W) = max_{|v| = 1} |W v| = u^T W v for its top singular vectors u, v. Power
iteration estimates them, cheaply, from the previous estimate (kept as buffers):

    v <- W^T u / |W^T u|,    u <- W v / |W v|         (arrays, no gradient)

and then, with u and v held constant,

    sigma = u^T W v = <W, u v^T>   (a Frobenius inner product),
    W_SN = W / sigma.

sigma is built from Functions (mul and sum), so the gradient flows through it:
d sigma / dW = u v^T, and d W_SN / dW applied to G is (G - <G, W_SN> u v^T) / sigma;
double backward works too. One iteration per training step suffices because W
changes little between steps. In eval mode u and v are reused as they are.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from scratchgan import functions as F
from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import get_array_module
from scratchgan.config import no_grad
from scratchgan.nn.conv import Conv2d, ConvTranspose2d
from scratchgan.nn.linear import Linear
from scratchgan.nn.module import Module
from scratchgan.nn.validation import check_real
from scratchgan.random import get_rng


def _normalize(a: Any, eps: float) -> Any:
    """a / max(|a|, eps); on the GPU without reading the norm back (no host sync)."""
    xp = get_array_module(a)
    if xp is np:
        return a / max(float(np.linalg.norm(a)), eps)
    return a / xp.maximum(xp.linalg.norm(a), a.dtype.type(eps))


class SpectralNorm:
    """The forward pre-hook that recomputes ``module.weight`` from ``weight_orig``.

    ``dim`` is the weight axis of the output channels: 0 for Linear (out, in) and
    Conv2d (OC, C, KH, KW), 1 for ConvTranspose2d (C, OC, KH, KW); the matrix W is
    the weight with that axis moved first and the others flattened.
    """

    def __init__(self, dim: int, n_power_iterations: int, eps: float) -> None:
        self.dim = dim
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def matrix(self, weight: Any) -> Any:
        """The weight array as the matrix W (rows: output channels)."""
        xp = get_array_module(weight)
        return xp.moveaxis(weight, self.dim, 0).reshape(weight.shape[self.dim], -1)

    def power_iteration(self, module: Module) -> None:
        """Update the buffers weight_u and weight_v in place."""
        W = self.matrix(module.weight_orig.data)
        u, v = module.weight_u, module.weight_v
        for _ in range(self.n_power_iterations):
            v[...] = _normalize(W.T @ u, self.eps)
            u[...] = _normalize(W @ v, self.eps)

    def __call__(self, module: Module, args: tuple) -> None:
        if module.training:
            self.power_iteration(module)
        module.weight = self.normalized_weight(module)

    def normalized_weight(self, module: Module) -> Tensor:
        """weight_orig / sigma with sigma = <weight_orig, u v^T>, built from Functions."""
        weight = module.weight_orig
        xp = get_array_module(weight.data)
        # u v^T laid out like the weight, a fresh array: a later forward (D(real), then
        # D(fake), then one backward) moves u and v in place before this backward runs.
        moved_shape = xp.moveaxis(weight.data, self.dim, 0).shape
        uv = xp.outer(module.weight_u, module.weight_v).reshape(moved_shape)
        uv = Tensor._from_array(xp.moveaxis(uv, 0, self.dim))
        return weight / F.sum(weight * uv)


def spectral_norm(module: Module, n_power_iterations: int = 1, eps: float = 1e-12) -> Module:
    """Spectrally normalize the weight of a Linear, Conv2d or ConvTranspose2d, in place;
    returns the module.

    The trained Parameter becomes ``weight_orig``; buffers ``weight_u`` (one value per
    output channel) and ``weight_v`` hold the singular-vector estimates, starting from
    a random u drawn from ``scratchgan.random.get_rng()`` and v = W^T u / |W^T u|.
    Before each forward ``module.weight`` is recomputed as weight_orig / sigma, after
    ``n_power_iterations`` power iterations in training mode (see the module docstring).
    ``eps`` (positive and finite) keeps the normalizations away from division by zero.
    """
    if not isinstance(module, (Linear, Conv2d, ConvTranspose2d)):
        raise TypeError(f"spectral_norm supports Linear, Conv2d and ConvTranspose2d, "
                        f"got {type(module).__name__}")
    if "weight_orig" in module._parameters:
        raise ValueError(f"spectral_norm: this {type(module).__name__} is already spectrally "
                         "normalized")
    if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations, int) \
            or n_power_iterations < 1:
        raise ValueError(f"spectral_norm: n_power_iterations must be a positive int, "
                         f"got {n_power_iterations!r}")
    eps = check_real("spectral_norm", "eps", eps, lambda v: v > 0, "positive and finite")
    hook = SpectralNorm(1 if isinstance(module, ConvTranspose2d) else 0, n_power_iterations, eps)
    weight = module.weight
    del module.weight
    module.weight_orig = weight
    W = hook.matrix(weight.data)
    xp = get_array_module(W)
    u = _normalize(xp.asarray(get_rng().standard_normal(W.shape[0]), dtype=W.dtype), eps)
    module.register_buffer("weight_u", u)
    module.register_buffer("weight_v", _normalize(W.T @ u, eps))
    module.register_forward_pre_hook(hook)
    with no_grad():  # a graph-free weight until the first forward
        module.weight = hook.normalized_weight(module)
    return module
