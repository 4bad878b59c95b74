"""Activation layers: parameter-free wrappers of ``scratchgan.functions``."""
from __future__ import annotations

from typing import Any

from scratchgan import functions as F
from scratchgan.autograd.tensor import Tensor
from scratchgan.nn.module import Module
from scratchgan.nn.validation import check_real


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope * x (DCGAN's discriminator uses 0.2); the slope
    must be a finite number."""

    def __init__(self, negative_slope: float = 0.2) -> None:
        super().__init__()
        self.negative_slope = check_real("LeakyReLU", "negative_slope", negative_slope)

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope:g}"


class ReLU(Module):
    """y = max(x, 0)."""

    def forward(self, x: Any) -> Tensor:
        return F.relu(x)


class Tanh(Module):
    """y = tanh(x) (DCGAN's generator output, images in [-1, 1])."""

    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x))."""

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)
