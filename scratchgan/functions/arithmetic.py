"""Element-wise arithmetic: add, sub, mul, div, neg, pow (scalar exponent), exp, log, sqrt,
abs.

Binary ops broadcast as NumPy does; their backward undoes it with ``sum_to``.
"""
from __future__ import annotations

from numbers import Real
from typing import Any

from scratchgan.autograd.function import Function
from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import get_array_module
from scratchgan.functions.array import sum_to


def _undo_broadcast(gx0: Tensor, gx1: Tensor, x0: Tensor, x1: Tensor) -> tuple[Tensor, Tensor]:
    return sum_to(gx0, x0.shape), sum_to(gx1, x1.shape)


class Add(Function):
    """Addition: y = x0 + x1.

    Shapes:    x0, x1: broadcastable; y: the broadcast shape
    Gradients: gx0 = sum_to(gy, x0.shape); gx1 = sum_to(gy, x1.shape)
    """

    saved_inputs = ()  # backward reads shapes only
    promotes_integers = True

    def forward(self, x0, x1):
        return x0 + x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return _undo_broadcast(gy, gy, x0, x1)


class Sub(Function):
    """Subtraction: y = x0 - x1.

    Shapes:    x0, x1: broadcastable; y: the broadcast shape
    Gradients: gx0 = sum_to(gy, x0.shape); gx1 = -sum_to(gy, x1.shape)
    """

    saved_inputs = ()  # backward reads shapes only
    promotes_integers = True

    def forward(self, x0, x1):
        return x0 - x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return _undo_broadcast(gy, -gy, x0, x1)


class Mul(Function):
    """Multiplication: y = x0 * x1.

    Shapes:    x0, x1: broadcastable; y: the broadcast shape
    Gradients: gx0 = sum_to(gy * x1, x0.shape); gx1 = sum_to(gy * x0, x1.shape)
    Double:    bilinear: d(gx0)/d(x1) = gy, d(gx0)/d(gy) = x1 (and symmetrically)
    """

    promotes_integers = True

    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return _undo_broadcast(gy * x1, gy * x0, x0, x1)


class Div(Function):
    """Division: y = x0 / x1.

    Shapes:    x0, x1: broadcastable; y: the broadcast shape
    Gradients: gx0 = sum_to(gy / x1, x0.shape); gx1 = sum_to(-gy * x0 / x1**2, x1.shape)
    """

    promotes_integers = True

    def forward(self, x0, x1):
        return x0 / x1

    def backward(self, gy):
        x0, x1 = self.inputs
        gx0 = gy / x1
        return _undo_broadcast(gx0, -gx0 * x0 / x1, x0, x1)


class Neg(Function):
    """Negation: y = -x.

    Shapes:    x: any; y: like x
    Gradients: gx = -gy
    """

    saved_inputs = ()  # backward reads no input

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Pow(Function):
    """Power with a constant exponent: y = x ** c.

    Shapes:    x: any; y: like x
    Gradients: gx = gy * c * x ** (c - 1)
    Double:    d(gx)/dx = gy * c * (c - 1) * x ** (c - 2), through Pow again
    """

    def __init__(self, c: float) -> None:
        self.c = c

    def forward(self, x):
        return x ** x.dtype.type(self.c) if x.dtype.kind == "f" else x ** self.c

    def backward(self, gy):
        x = self.inputs[0]
        if self.c == 1:
            return gy
        return gy * (self.c * x ** (self.c - 1))


class Exp(Function):
    """Exponential: y = exp(x).

    Shapes:    x: any; y: like x
    Gradients: gx = gy * y
    """

    saved_inputs = ()  # backward reads the output

    def forward(self, x):
        return get_array_module(x).exp(x)

    def backward(self, gy):
        return gy * self.output()


class Log(Function):
    """Natural logarithm: y = log(x), x > 0.

    Shapes:    x: any; y: like x
    Gradients: gx = gy / x
    """

    def forward(self, x):
        return get_array_module(x).log(x)

    def backward(self, gy):
        return gy / self.inputs[0]


class Sqrt(Function):
    """Square root: y = sqrt(x), x > 0.

    Shapes:    x: any; y: like x
    Gradients: gx = gy / (2 y)
    """

    saved_inputs = ()  # backward reads the output

    def forward(self, x):
        return get_array_module(x).sqrt(x)

    def backward(self, gy):
        return gy / (2.0 * self.output())


class Abs(Function):
    """Absolute value: y = |x|, with the subgradient sign(x) (0 at x = 0, as NumPy's sign).

    Shapes:    x: any; y: like x
    Gradients: gx = abs_grad(x, gy) = gy * sign(x)
    Double:    gx is linear in gy with the mask sign(x), its own adjoint:
               d(gx)/d(gy) applied to ggx is abs_grad(x, ggx); d(gx)/dx = 0 a.e.
    """

    def forward(self, x):
        return get_array_module(x).abs(x)

    def backward(self, gy):
        return AbsGrad()(self.inputs[0], gy)


class AbsGrad(Function):
    """Gradient of the absolute value: gx = gy * sign(x); x only selects the sign.

    Shapes:    x: any; gy: like x; gx: like x
    Gradients: g_x = 0 (piecewise constant in x); g_gy = abs_grad(x, ggx)
    """

    saved_inputs = (0,)  # x, not gy

    def forward(self, x, gy):
        return gy * get_array_module(x).sign(x)

    def backward(self, ggx):
        return None, AbsGrad()(self.inputs[0], ggx)


def add(x0: Any, x1: Any) -> Tensor:
    return Add()(x0, x1)


def sub(x0: Any, x1: Any) -> Tensor:
    return Sub()(x0, x1)


def mul(x0: Any, x1: Any) -> Tensor:
    return Mul()(x0, x1)


def div(x0: Any, x1: Any) -> Tensor:
    return Div()(x0, x1)


def neg(x: Any) -> Tensor:
    return Neg()(x)


def pow(x: Any, c: float) -> Tensor:  # noqa: A001 (mirrors the operator)
    if isinstance(c, Tensor) or not isinstance(c, Real):
        raise TypeError(f"pow takes a constant real exponent, got {type(c).__name__}; "
                        "write exp(c * log(x)) for a Tensor exponent")
    return Pow(float(c))(x)


def exp(x: Any) -> Tensor:
    return Exp()(x)


def log(x: Any) -> Tensor:
    return Log()(x)


def sqrt(x: Any) -> Tensor:
    return Sqrt()(x)


def abs(x: Any) -> Tensor:  # noqa: A001 (mirrors numpy)
    return Abs()(x)
