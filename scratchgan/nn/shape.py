"""Shape layers: Flatten and Unflatten (between conv features and dense layers), Upsample."""
from __future__ import annotations

import math
from typing import Any, Sequence

from scratchgan import functions as F
from scratchgan.autograd.tensor import Tensor
from scratchgan.nn.module import Module


class Flatten(Module):
    """Collapse the axes from ``start_dim`` on: (N, C, H, W) -> (N, C*H*W)."""

    def __init__(self, start_dim: int = 1) -> None:
        super().__init__()
        self.start_dim = int(start_dim)

    def forward(self, x: Any) -> Tensor:
        return F.flatten(x, self.start_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``shape``: Unflatten(1, (C, H, W)) maps (N, C*H*W) to
    (N, C, H, W)."""

    def __init__(self, dim: int, shape: Sequence[int]) -> None:
        super().__init__()
        self.dim = int(dim)
        self.shape = tuple(int(s) for s in shape)
        if not self.shape or any(s < 1 for s in self.shape):
            raise ValueError(f"Unflatten: shape must be a non-empty sequence of positive ints, "
                             f"got {shape!r}")

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if not -x.ndim <= self.dim < x.ndim or x.shape[self.dim] != math.prod(self.shape):
            raise ValueError(f"Unflatten({self.dim}, {self.shape}): axis {self.dim} of the input "
                             f"must have {math.prod(self.shape)} elements, got shape {x.shape}")
        dim = self.dim % x.ndim
        return F.reshape(x, x.shape[:dim] + self.shape + x.shape[dim + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, shape={self.shape}"


class Upsample(Module):
    """Nearest-neighbour upsampling by an integer ``scale`` (``F.upsample_nearest``):
    (N, C, H, W) -> (N, C, scale H, scale W). Followed by a convolution it is the
    "resize-convolution" of Odena et al. 2016, an upsampling without the checkerboard
    pattern a strided transposed convolution can leave."""

    def __init__(self, scale: int = 2) -> None:
        super().__init__()
        if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
            raise ValueError(f"Upsample: scale must be a positive integer, got {scale!r}")
        self.scale = scale

    def forward(self, x: Any) -> Tensor:
        return F.upsample_nearest(x, self.scale)

    def extra_repr(self) -> str:
        return f"scale={self.scale}"
