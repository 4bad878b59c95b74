"""2-D convolution, transposed convolution and the conv weight gradient.

The three ops are closed under differentiation. Write conv(x, W) for conv2d
(no bias), convT(x, W) for conv_transpose2d and gradW(x, gy) for
conv2d_grad_weight. All three are bilinear and related by one identity,

    <conv(x, W), gy> = <x, convT(gy, W)> = <W, gradW(x, gy)>,

so each one's gradients are the other two:

    conv(x, W):     gx = convT(gy, W),    gW = gradW(x, gy)
    convT(x, W):    gx = conv(gy, W),     gW = gradW(gy, x)
    gradW(x, gy):   g_x = convT(gy, ggW), g_gy = conv(x, ggW)

and double (and higher) backward needs nothing else. Shape letters and output
sizes are those of ``scratchgan_kernels.shapes``: conv2d gives
OH = (H + 2 PH - KH) // SH + 1, conv_transpose2d OH = (H - 1) SH - 2 PH + KH + OPH.
Weight layouts are PyTorch's: conv2d W (OC, C, KH, KW), conv_transpose2d
W (C, OC, KH, KW).

Because of the floor in conv2d's output size, SH input sizes give the same
output size; the transposed conv that is conv2d's input gradient takes the
output padding OPH = H - conv_transpose_output_size(OH, KH, SH, PH), always in
[0, SH), to land on x's size.
"""
from __future__ import annotations

from typing import Any

from scratchgan.autograd.function import Function
from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import kernel
from scratchgan.functions.array import sum
from scratchgan_kernels.shapes import as_pair, conv_transpose_output_size

Pair = tuple[int, int]


def _output_padding_to(size: tuple[int, int], out: tuple[int, int], kernel_size: Pair,
                       stride: Pair, padding: Pair) -> Pair:
    """The output padding that makes a transposed conv of an (OH, OW) input give ``size``."""
    return tuple(int(n - conv_transpose_output_size(o, k, s, p))
                 for n, o, k, s, p in zip(size, out, kernel_size, stride, padding))


def _check_bias(op: str, b: Any, channels: int) -> None:
    if b is not None and tuple(b.shape) != (channels,):
        raise ValueError(f"{op}: bias has shape {tuple(b.shape)}, expected ({channels},) "
                         f"(one value per output channel)")


def _add_bias(y: Any, b: Any) -> Any:
    if b is not None:
        kernel("bias_add", y)(y, b, out=y)  # y is a fresh array of the same dtype
    return y


class Conv2d(Function):
    """2-D convolution (a cross-correlation, no kernel flip), x zero outside its H x W:
    y[n, o, oh, ow] = b[o] + sum_{c,i,j} W[o, c, i, j] x[n, c, oh SH + i - PH, ow SW + j - PW].

    Shapes:    x: (N, C, H, W); W: (OC, C, KH, KW); b: (OC,) or absent;
               y: (N, OC, OH, OW), OH = (H + 2 PH - KH) // SH + 1
    Gradients: gx = conv_transpose2d(gy, W, stride, padding, output_padding=OPH)
               with OPH = H - ((OH - 1) SH - 2 PH + KH) so that gx has x's shape;
               gW = conv2d_grad_weight(x, gy, (KH, KW), stride, padding);
               gb = sum(gy, axis=(0, 2, 3))
    Double:    bilinear in (x, W): gx is linear in (gy, W), gW in (x, gy), and those
               ops' own backwards are conv2d, conv_transpose2d and
               conv2d_grad_weight again; gb is linear in gy
    """

    saved_inputs = (0, 1)  # x and W, not b

    def __init__(self, stride: Pair, padding: Pair) -> None:
        self.stride = stride
        self.padding = padding

    def forward(self, x, W, b=None):    # every kernel backend checks the shapes itself
        _check_bias("conv2d", b, W.shape[0])
        return _add_bias(kernel("conv2d", x)(x, W, self.stride, self.padding), b)

    def backward(self, gy):
        x, W = self.inputs[:2]
        needs = self.needs_input_grad
        kernel_size = W.shape[2:]
        gx = gW = gb = None
        if needs[0]:
            op = _output_padding_to(x.shape[2:], gy.shape[2:], kernel_size, self.stride,
                                    self.padding)
            gx = conv_transpose2d(gy, W, None, self.stride, self.padding, op)
        if needs[1]:
            gW = conv2d_grad_weight(x, gy, kernel_size, self.stride, self.padding)
        if len(self.inputs) == 2:
            return gx, gW
        if needs[2]:
            gb = sum(gy, axis=(0, 2, 3))
        return gx, gW, gb


class ConvTranspose2d(Function):
    """2-D transposed convolution, the adjoint of conv2d in its input: y = b[o] plus
    sum_c W[c, o, i, j] x[n, c, h, w] added at y[n, o, h SH + i - PH, w SW + j - PW]
    (what lands outside the OH x OW output is dropped).

    Shapes:    x: (N, C, H, W); W: (C, OC, KH, KW); b: (OC,) or absent;
               y: (N, OC, OH, OW), OH = (H - 1) SH - 2 PH + KH + OPH, 0 <= OPH < SH
    Gradients: gx = conv2d(gy, W, stride, padding)  (conv2d maps y's size back to H);
               gW = conv2d_grad_weight(gy, x, (KH, KW), stride, padding), the arguments
               swapped since <convT(x, W), gy> = <x, conv2d(gy, W)>;
               gb = sum(gy, axis=(0, 2, 3))
    Double:    bilinear in (x, W), closed under differentiation as for Conv2d
    """

    saved_inputs = (0, 1)  # x and W, not b

    def __init__(self, stride: Pair, padding: Pair, output_padding: Pair) -> None:
        self.stride = stride
        self.padding = padding
        self.output_padding = output_padding

    def forward(self, x, W, b=None):    # every kernel backend checks the shapes itself
        _check_bias("conv_transpose2d", b, W.shape[1])
        y = kernel("conv_transpose2d", x)(x, W, self.stride, self.padding, self.output_padding)
        return _add_bias(y, b)

    def backward(self, gy):
        x, W = self.inputs[:2]
        needs = self.needs_input_grad
        gx = gW = gb = None
        if needs[0]:
            gx = conv2d(gy, W, None, self.stride, self.padding)
        if needs[1]:
            gW = conv2d_grad_weight(gy, x, W.shape[2:], self.stride, self.padding)
        if len(self.inputs) == 2:
            return gx, gW
        if needs[2]:
            gb = sum(gy, axis=(0, 2, 3))
        return gx, gW, gb


class Conv2dGradWeight(Function):
    """The weight gradient of conv2d as an op of (x, gy):
    gW[o, c, i, j] = sum_{n,oh,ow} gy[n, o, oh, ow] x[n, c, oh SH + i - PH, ow SW + j - PW].

    Shapes:    x: (N, C, H, W); gy: (N, OC, OH, OW), conv2d's output shape;
               gW: (OC, C, KH, KW)
    Gradients: with the upstream gradient ggW (OC, C, KH, KW), from
               <gradW(x, gy), ggW> = <conv2d(x, ggW), gy> = <x, convT(gy, ggW)>:
               g_x = conv_transpose2d(gy, ggW, stride, padding, output_padding=OPH)
               (OPH sizes it to x, as in Conv2d's gx); g_gy = conv2d(x, ggW, stride, padding)
    Double:    bilinear in (x, gy); its gradients are conv2d and conv_transpose2d
    """

    def __init__(self, kernel_size: Pair, stride: Pair, padding: Pair) -> None:
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding

    def forward(self, x, gy):           # every kernel backend checks the shapes itself
        return kernel("conv2d_grad_weight", x)(x, gy, self.kernel_size, self.stride,
                                                self.padding)

    def backward(self, ggW):
        x, gy = self.inputs
        needs = self.needs_input_grad
        g_x = g_gy = None
        if needs[0]:
            op = _output_padding_to(x.shape[2:], gy.shape[2:], self.kernel_size, self.stride,
                                    self.padding)
            g_x = conv_transpose2d(gy, ggW, None, self.stride, self.padding, op)
        if needs[1]:
            g_gy = conv2d(x, ggW, None, self.stride, self.padding)
        return g_x, g_gy


def conv2d(x: Any, W: Any, b: Any = None, stride: Any = 1, padding: Any = 0) -> Tensor:
    """2-D convolution of x (N, C, H, W) with W (OC, C, KH, KW), plus an optional
    bias b (OC,): y (N, OC, OH, OW). ``stride`` and ``padding`` are ints or pairs."""
    fn = Conv2d(as_pair(stride, "stride", "conv2d", 1), as_pair(padding, "padding", "conv2d", 0))
    return fn(x, W) if b is None else fn(x, W, b)


def conv_transpose2d(x: Any, W: Any, b: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0) -> Tensor:
    """2-D transposed convolution of x (N, C, H, W) with W (C, OC, KH, KW), plus an
    optional bias b (OC,): y (N, OC, OH, OW), OH = (H - 1) SH - 2 PH + KH + OPH.
    ``stride``, ``padding`` and ``output_padding`` (< stride) are ints or pairs."""
    op = "conv_transpose2d"
    fn = ConvTranspose2d(as_pair(stride, "stride", op, 1), as_pair(padding, "padding", op, 0),
                         as_pair(output_padding, "output_padding", op, 0))
    return fn(x, W) if b is None else fn(x, W, b)


def conv2d_grad_weight(x: Any, gy: Any, kernel_size: Any, stride: Any = 1,
                       padding: Any = 0) -> Tensor:
    """The weight gradient of conv2d for input x (N, C, H, W) and output gradient
    gy (N, OC, OH, OW): gW (OC, C, KH, KW), ``kernel_size`` = (KH, KW) or an int."""
    op = "conv2d_grad_weight"
    return Conv2dGradWeight(as_pair(kernel_size, "kernel_size", op, 1),
                            as_pair(stride, "stride", op, 1),
                            as_pair(padding, "padding", op, 0))(x, gy)
