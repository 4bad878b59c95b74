"""Convolution layers: Conv2d and ConvTranspose2d (PyTorch's weight layouts).

Output sizes (``scratchgan_kernels.shapes``):
    Conv2d:           OH = (H + 2 PH - KH) // SH + 1
    ConvTranspose2d:  OH = (H - 1) SH - 2 PH + KH + OPH,  0 <= OPH < SH
A ConvTranspose2d with the same (kernel, stride, padding) as a Conv2d maps the
Conv2d's output size back to its input size (up to OPH): DCGAN's generator
upsamples with k4 s2 p1, 7 -> 14 -> 28.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from scratchgan import functions as F
from scratchgan.autograd.tensor import Tensor
from scratchgan.nn import init
from scratchgan.nn.module import Module
from scratchgan.nn.parameter import Parameter
from scratchgan.nn.validation import check_positive_int
from scratchgan_kernels.shapes import as_pair


class _Conv(Module):
    """What Conv2d and ConvTranspose2d share: arguments, bias, init, input check.
    The weight is (OC, C, KH, KW), or (C, OC, KH, KW) when ``transposed``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, bias: bool, transposed: bool) -> None:
        super().__init__()
        name = type(self).__name__
        self.in_channels = check_positive_int(name, "in_channels", in_channels)
        self.out_channels = check_positive_int(name, "out_channels", out_channels)
        self.kernel_size = as_pair(kernel_size, "kernel_size", name, 1)
        self.stride = as_pair(stride, "stride", name, 1)
        self.padding = as_pair(padding, "padding", name, 0)
        channels = (in_channels, out_channels) if transposed else (out_channels, in_channels)
        self.weight = Parameter(np.empty(channels + self.kernel_size, np.float32))
        self.bias = Parameter(np.empty(out_channels, np.float32)) if bias else None
        init.default_uniform_(self.weight, self.bias)

    def _check_input(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{type(self).__name__}({self.in_channels}, {self.out_channels}) "
                             f"expects input of shape (N, {self.in_channels}, H, W), "
                             f"got {x.shape}")
        return x

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}"
                + ("" if self.bias is not None else ", bias=False"))


class Conv2d(_Conv):
    """2-D convolution (cross-correlation) of x (N, C, H, W) with W (OC, C, KH, KW),
    plus b (OC,): y (N, OC, OH, OW); see ``functions.conv2d``.

    Init: W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C KH KW
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, bias,
                         transposed=False)

    def forward(self, x: Any) -> Tensor:
        return F.conv2d(self._check_input(x), self.weight, self.bias, self.stride, self.padding)


class ConvTranspose2d(_Conv):
    """2-D transposed convolution (the adjoint of conv2d in its input) of x (N, C, H, W)
    with W (C, OC, KH, KW), plus b (OC,): y (N, OC, OH, OW); see
    ``functions.conv_transpose2d``.

    Init: W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = OC KH KW (the fan
    convention applied to this layout, as in PyTorch)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, bias,
                         transposed=True)
        self.output_padding = as_pair(output_padding, "output_padding", "ConvTranspose2d", 0)
        if any(op >= s for op, s in zip(self.output_padding, self.stride)):
            raise ValueError(f"ConvTranspose2d: output_padding {self.output_padding} must be "
                             f"smaller than the stride {self.stride}")

    def forward(self, x: Any) -> Tensor:
        return F.conv_transpose2d(self._check_input(x), self.weight, self.bias, self.stride,
                                  self.padding, self.output_padding)

    def extra_repr(self) -> str:
        extra = super().extra_repr()
        return extra + (f", output_padding={self.output_padding}"
                        if any(self.output_padding) else "")
