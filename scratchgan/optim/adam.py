"""Adam (Kingma & Ba 2015), through the fused ``adam_update`` kernel."""
from __future__ import annotations

from typing import Any, Iterable

from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import get_array_module, kernel
from scratchgan.optim.optimizer import Optimizer


class Adam(Optimizer):
    """Adam. With g = grad + weight_decay * p (an L2 penalty, as PyTorch's Adam) and
    the step count t = 1, 2, ...:

        m <- beta1 m + (1 - beta1) g,    v <- beta2 v + (1 - beta2) g^2
        p <- p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)

    The update runs in one kernel, ``adam_update``, of the backend the parameter's
    array selects. State per parameter: "step" (t), "exp_avg" (m), "exp_avg_sq" (v).
    DCGAN trains with lr=2e-4, betas=(0.5, 0.999).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay})

    def check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "eps", "weight_decay"):
            self.require(group, key, lambda v: v >= 0, "a number >= 0")
        self.require(group, "betas", lambda b: len(b) == 2 and all(0 <= x < 1 for x in b),
                     "a pair of numbers in [0, 1)")

    def update(self, p: Tensor, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = get_array_module(p.data)
        if not state:
            state.update(step=0, exp_avg=xp.zeros_like(p.data), exp_avg_sq=xp.zeros_like(p.data))
        state["step"] += 1
        beta1, beta2 = group["betas"]
        kernel("adam_update", p.data)(p.data, xp.ascontiguousarray(g), state["exp_avg"],
                                      state["exp_avg_sq"], float(group["lr"]), float(beta1),
                                      float(beta2), float(group["eps"]), state["step"],
                                      float(group["weight_decay"]))
