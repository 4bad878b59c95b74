"""RMSprop (Tieleman & Hinton 2012), the optimizer of the original WGAN."""
from __future__ import annotations

from typing import Any, Iterable

from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import get_array_module
from scratchgan.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop, PyTorch's semantics. With g = grad + weight_decay * p:

        s <- alpha s + (1 - alpha) g^2           (s starts at 0)
        momentum = 0:  p <- p - lr * g / (sqrt(s) + eps)
        momentum > 0:  b <- momentum b + g / (sqrt(s) + eps),  p <- p - lr * b   (b starts at 0)

    State per parameter: "square_avg" (s) and, when momentum > 0, "momentum_buffer" (b).
    WGAN (Arjovsky et al. 2017) trains with lr=5e-5.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps, "momentum": momentum,
                                  "weight_decay": weight_decay})

    def check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "eps", "momentum", "weight_decay"):
            self.require(group, key, lambda v: v >= 0, "a number >= 0")
        self.require(group, "alpha", lambda v: 0 <= v <= 1, "a number in [0, 1]")

    def update(self, p: Tensor, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = get_array_module(p.data)
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p.data
        if "square_avg" not in state:
            state["square_avg"] = xp.zeros_like(p.data)
        s = state["square_avg"]
        s *= group["alpha"]
        s += (1 - group["alpha"]) * (g * g)
        step = g / (xp.sqrt(s) + group["eps"])
        if group["momentum"]:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = xp.zeros_like(p.data)
            b = state["momentum_buffer"]
            b *= group["momentum"]
            b += step
            step = b
        p.data -= group["lr"] * step
