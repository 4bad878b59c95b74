"""Optimizer updates, in place, compiled with Numba.

``adam_update`` is one fused pass over the four flat arrays (the reference makes about ten
passes and three temporaries). Every scalar is rounded to the arrays' dtype first and the
operations run in the reference's order without contraction, so the result equals the
reference's bit for bit. ``param``, ``m`` and ``v`` are updated in place and so must be
C-contiguous; ``grad`` is only read and may have any strides. Large arrays are updated in
blocks on the workers of ``scratchgan_kernels.parallel``.
"""
from __future__ import annotations

import numpy as np

from scratchgan_kernels.cpu._common import ARRAYS, blockwise, njit


@njit
def _adam(p, g, m, v, lr_b, b1, omb1, b2, omb2, bias2, eps, wd, decay):
    for k in range(p.size):
        gk = g[k] + wd * p[k] if decay else g[k]
        mk = m[k] * b1
        mk = mk + omb1 * gk
        vk = v[k] * b2
        vk = vk + omb2 * (gk * gk)
        m[k] = mk
        v[k] = vk
        p[k] = p[k] - (lr_b * mk) / (np.sqrt(vk / bias2) + eps)


def adam_update(param: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray, lr: float,
                beta1: float, beta2: float, eps: float, step: int,
                weight_decay: float = 0.0) -> None:
    """One Adam step (Kingma & Ba 2015), in place on ``param``, ``m`` and ``v``.

    With g = grad + weight_decay * param (L2 penalty, as PyTorch's Adam) and t = step >= 1:
        m <- beta1 m + (1 - beta1) g
        v <- beta2 v + (1 - beta2) g^2
        param <- param - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
    All four arrays share one shape and dtype.
    """
    g = ARRAYS.check_adam_update(param, grad, m, v, step)
    t = param.dtype.type
    bias1, bias2 = 1 - beta1 ** step, 1 - beta2 ** step
    blockwise(_adam, (param.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1)),
              t(lr / bias1), t(beta1), t(1 - beta1), t(beta2), t(1 - beta2), t(bias2), t(eps),
              t(weight_decay), bool(weight_decay))
