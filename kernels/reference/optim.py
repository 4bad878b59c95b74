"""Optimizer updates, in place, plain NumPy."""
from __future__ import annotations

import numpy as np

from scratchgan_kernels.checks import check_adam_args


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
    check_adam_args(param, grad, m, v, step)
    g = grad + weight_decay * param if weight_decay else grad
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * (g * g)
    bias1, bias2 = 1 - beta1 ** step, 1 - beta2 ** step
    param -= (lr / bias1) * m / (np.sqrt(v / bias2) + param.dtype.type(eps))
