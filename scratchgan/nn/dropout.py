"""Dropout layer: a parameter-free wrapper of ``functions.dropout``."""
from __future__ import annotations

from typing import Any

from scratchgan import functions as F
from scratchgan.autograd.tensor import Tensor
from scratchgan.nn.module import Module
from scratchgan.nn.validation import check_real


class Dropout(Module):
    """Inverted dropout in training mode (each element zeroed with probability ``p``, the
    rest scaled by 1 / (1 - p)); the identity in eval mode. pix2pix's U-Net uses it as the
    generator's noise. ``p`` must be a number in [0, 1)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = check_real("Dropout", "p (the dropout probability)", p, lambda v: 0 <= v < 1,
                            "in [0, 1)")

    def forward(self, x: Any) -> Tensor:
        return F.dropout(x, self.p, training=self.training)

    def extra_repr(self) -> str:
        return f"p={self.p:g}"
