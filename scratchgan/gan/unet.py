"""The pix2pix generator: a U-Net (Isola et al. 2017, after Ronneberger et al. 2015).

With P the image size padded up to a power of two and w_i = ngf * min(2^i, 8):

    encoder e_0 = Conv(C_in, w_0, k4 s2 p1)(x)                                 (w_0, P/2)
            e_i = Conv(w_{i-1}, w_i, k4 s2 p1)(LeakyReLU(0.2)(e_{i-1})), BN    (w_i, P/2^(i+1))
                  (the innermost e_{depth-1}, at 1x1 by default, has no BN)
    decoder d_{depth-1} = BN(ConvT(w_{depth-1}, w_{depth-2}, k4 s2 p1)(ReLU(e_{depth-1})))
            d_i = BN(ConvT(2 w_i, w_{i-1}, k4 s2 p1)(ReLU(concat(d_{i+1}, e_i))))  [+ dropout]
            y   = Tanh(ConvT(2 w_0, C_out, k4 s2 p1)(ReLU(concat(d_1, e_0))))   (C_out, P)

Every level halves the size, so ``depth`` (default log2 P: down to 1x1, 8 levels at 256 as
in pix2pix) must divide P into whole pixels. Dropout (pix2pix's only noise) follows the
``dropout_layers`` decoder levels just above the innermost one (3 by default, as pix2pix).
An image whose size is not a power of two (28: the digit sets) is padded with
``pad_value`` (-1: black, the digits' background) to P (32) on all sides evenly, and the
output is cropped back, so G maps (N, C_in, S, S) to (N, C_out, S, S) for any S >= 2.
pix2pix initialises weights N(0, 0.02^2): ``G.apply(gan.init.dcgan_init)``.
"""
from __future__ import annotations

from typing import Any

from scratchgan import functions as F
from scratchgan import nn
from scratchgan.autograd import Tensor
from scratchgan.backend import get_array_module

MAX_WIDTH_FACTOR = 8


def padded_size(image_size: int) -> int:
    """The smallest power of two >= ``image_size``."""
    return 1 << (int(image_size) - 1).bit_length()


def level_widths(ngf: int, depth: int) -> list[int]:
    """The encoder's channel counts w_i = ngf * min(2^i, 8), i < depth."""
    return [ngf * min(2 ** i, MAX_WIDTH_FACTOR) for i in range(depth)]


def pad_image(x: Tensor, size: int, value: float) -> Tensor:
    """x (N, C, H, W) framed with ``value`` to (N, C, size, size), the extra split evenly
    (one more at the bottom/right when odd); built from concat, so it differentiates."""
    xp = get_array_module(x.data)
    n, c, h, w = x.shape
    top, left = (size - h) // 2, (size - w) // 2

    def block(rows: int, cols: int) -> Tensor:
        return Tensor(xp.full((n, c, rows, cols), value, dtype=x.dtype))
    x = F.concat([block(top, w), x, block(size - h - top, w)], axis=2)
    return F.concat([block(size, left), x, block(size, size - w - left)], axis=3)


def crop_image(x: Tensor, height: int, width: int) -> Tensor:
    """The centre (height, width) of x, the inverse of :func:`pad_image`'s framing."""
    top, left = (x.shape[2] - height) // 2, (x.shape[3] - width) // 2
    return x[:, :, top:top + height, left:left + width]


class UNetGenerator(nn.Module):
    """U-Net generator: ``G(x)`` maps images (N, in_channels, S, S) to (N, out_channels, S, S)
    in [-1, 1]; see the module docstring for the layers."""

    def __init__(self, image_size: int = 256, in_channels: int = 3, out_channels: int = 3,
                 ngf: int = 64, depth: int | None = None, dropout: float = 0.5,
                 dropout_layers: int = 3, pad_value: float = -1.0) -> None:
        super().__init__()
        if image_size < 2:
            raise ValueError(f"UNetGenerator needs images of at least 2x2, got {image_size}")
        self.image_size, self.in_channels = int(image_size), int(in_channels)
        self.size = padded_size(image_size)
        self.depth = self.size.bit_length() - 1 if depth is None else int(depth)
        if not 1 <= self.depth <= self.size.bit_length() - 1:
            raise ValueError(f"UNetGenerator: depth {depth} does not fit images padded to "
                             f"{self.size} (1 to {self.size.bit_length() - 1} halvings)")
        self.pad_value = float(pad_value)
        widths = level_widths(ngf, self.depth)
        self.encoder = nn.Sequential(*(self._down(widths, i) for i in range(self.depth)))
        with_dropout = range(max(1, self.depth - 1 - dropout_layers), self.depth - 1)
        self.decoder = nn.Sequential(*(
            self._up(widths, i, out_channels, dropout if i in with_dropout else 0.0)
            for i in range(self.depth)))

    def _down(self, widths: list[int], i: int) -> nn.Sequential:
        if i == 0:
            return nn.Sequential(nn.Conv2d(self.in_channels, widths[0], 4, 2, 1))
        innermost = i == self.depth - 1
        layers = [nn.LeakyReLU(0.2), nn.Conv2d(widths[i - 1], widths[i], 4, 2, 1, bias=innermost)]
        return nn.Sequential(*layers, *([] if innermost else [nn.BatchNorm2d(widths[i])]))

    def _up(self, widths: list[int], i: int, out_channels: int, dropout: float) -> nn.Sequential:
        cin = widths[i] * (1 if i == self.depth - 1 else 2)
        if i == 0:
            return nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(cin, out_channels, 4, 2, 1),
                                 nn.Tanh())
        layers = [nn.ReLU(), nn.ConvTranspose2d(cin, widths[i - 1], 4, 2, 1, bias=False),
                  nn.BatchNorm2d(widths[i - 1])]
        return nn.Sequential(*layers, *([nn.Dropout(dropout)] if dropout else []))

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        want = (self.in_channels, self.image_size, self.image_size)
        if x.ndim != 4 or x.shape[1:] != want:
            raise ValueError(f"UNetGenerator: inputs must have shape (N, "
                             f"{', '.join(map(str, want))}), got {x.shape}")
        h = pad_image(x, self.size, self.pad_value) if self.size != self.image_size else x
        skips = []
        for down in self.encoder:
            h = down(h)
            skips.append(h)
        for i in reversed(range(self.depth)):
            if i < self.depth - 1:
                h = F.concat([h, skips[i]], axis=1)
            h = self.decoder[i](h)
        return crop_image(h, self.image_size, self.image_size) if self.size != self.image_size else h
