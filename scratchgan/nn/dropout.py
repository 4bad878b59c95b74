"""Dropout layer: a parameter-free wrapper of ``functions.dropout``."""
from __future__ import annotations

from typing import Any

from scratchgan import functions as F
from scratchgan.autograd.tensor import Tensor
from scratchgan.nn.module import Module


class Dropout(Module):
    """Inverted dropout in training mode (each element zeroed with probability ``p``, the
    rest scaled by 1 / (1 - p)); the identity in eval mode. pix2pix's U-Net uses it as the
    generator's noise."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = float(p)

    def forward(self, x: Any) -> Tensor:
        return F.dropout(x, self.p, training=self.training)

    def extra_repr(self) -> str:
        return f"p={self.p:g}"
