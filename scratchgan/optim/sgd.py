"""Stochastic gradient descent with momentum (Polyak 1964; Nesterov as in Sutskever
et al. 2013)."""
from __future__ import annotations

from typing import Any, Iterable

from scratchgan.autograd.tensor import Tensor
from scratchgan.optim.optimizer import Optimizer


class SGD(Optimizer):
    """SGD, PyTorch's semantics. With g = grad + weight_decay * p:

        momentum = 0:  p <- p - lr * g
        momentum > 0:  b <- g on the first step, else b <- momentum * b + (1 - dampening) * g
                       p <- p - lr * d,  d = g + momentum * b (nesterov) or d = b

    State per parameter: "momentum_buffer" (b), when momentum > 0.
    """

    def __init__(self, params: Iterable[Any], lr: float, momentum: float = 0.0,
                 dampening: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "nesterov": nesterov, "weight_decay": weight_decay})

    def check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "momentum", "dampening", "weight_decay"):
            self.require(group, key, lambda v: v >= 0, "a number >= 0")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"{self.name}: nesterov needs momentum > 0 and dampening = 0, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def update(self, p: Tensor, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p.data
        momentum = group["momentum"]
        if momentum:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.copy()
            else:
                b *= momentum
                b += (1 - group["dampening"]) * g
            g = g + momentum * b if group["nesterov"] else b
        p.data -= group["lr"] * g
