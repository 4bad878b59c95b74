"""Activations: relu, leaky_relu, sigmoid, tanh, softplus, log_sigmoid.

sigmoid, softplus and log_sigmoid are written so that no intermediate overflows:
sigmoid(x) = (1 + tanh(x/2)) / 2 and softplus(x) = max(x, 0) + log1p(exp(-|x|)).
"""
from __future__ import annotations

from typing import Any

from scratchgan.autograd.function import Function
from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import get_array_module, kernel


class LeakyReLU(Function):
    """Leaky ReLU: y = x if x > 0 else slope * x.

    Shapes:    x: any; y: like x
    Gradients: gx = leaky_relu_grad(x, gy) = gy * where(x > 0, 1, slope)
    Double:    gx is linear in gy with a mask that is its own adjoint, so
               d(gx)/d(gy) applied to ggx is leaky_relu_grad(x, ggx); d(gx)/dx = 0 a.e.
    """

    def __init__(self, slope: float = 0.2) -> None:
        self.slope = float(slope)

    def forward(self, x):
        return kernel("leaky_relu", x)(x, self.slope)

    def backward(self, gy):
        return LeakyReLUGrad(self.slope)(self.inputs[0], gy)


class ReLU(LeakyReLU):
    """ReLU: y = max(x, 0), a leaky ReLU of slope 0.

    Shapes:    x: any; y: like x
    Gradients: gx = gy * (x > 0)
    Double:    as leaky ReLU: d(gx)/dx = 0 a.e.
    """

    def __init__(self) -> None:
        super().__init__(0.0)


class LeakyReLUGrad(Function):
    """Gradient of leaky ReLU: gx = gy * where(x > 0, 1, slope); x only selects the mask.

    Shapes:    x: any; gy: like x; gx: like x
    Gradients: g_x = 0 (piecewise constant in x); g_gy = leaky_relu_grad(x, ggx)
    """

    saved_inputs = (0,)  # x, not gy

    def __init__(self, slope: float) -> None:
        self.slope = slope

    def forward(self, x, gy):
        return kernel("leaky_relu_grad", x)(x, gy, self.slope)

    def backward(self, ggx):
        return None, LeakyReLUGrad(self.slope)(self.inputs[0], ggx)


class Sigmoid(Function):
    """Logistic sigmoid: y = 1 / (1 + exp(-x)), computed as (1 + tanh(x/2)) / 2.

    Shapes:    x: any; y: like x
    Gradients: gx = gy * y * (1 - y)
    """

    saved_inputs = ()  # backward reads the output

    def forward(self, x):
        xp = get_array_module(x)
        half = x.dtype.type(0.5)
        return half * (xp.tanh(half * x) + 1)

    def backward(self, gy):
        y = self.output()
        return gy * y * (1.0 - y)


class Tanh(Function):
    """Hyperbolic tangent: y = tanh(x).

    Shapes:    x: any; y: like x
    Gradients: gx = gy * (1 - y^2)
    """

    saved_inputs = ()  # backward reads the output

    def forward(self, x):
        return get_array_module(x).tanh(x)

    def backward(self, gy):
        y = self.output()
        return gy * (1.0 - y * y)


class Softplus(Function):
    """Softplus: y = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)).

    Shapes:    x: any; y: like x
    Gradients: gx = gy * sigmoid(x)
    """

    def forward(self, x):
        xp = get_array_module(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        return gy * sigmoid(self.inputs[0])


class LogSigmoid(Function):
    """Log-sigmoid: y = log(sigmoid(x)) = -softplus(-x) = min(x, 0) - log1p(exp(-|x|)).

    Shapes:    x: any; y: like x
    Gradients: gx = gy * sigmoid(-x)
    """

    def forward(self, x):
        xp = get_array_module(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        return gy * sigmoid(-self.inputs[0])


def relu(x: Any) -> Tensor:
    return ReLU()(x)


def leaky_relu(x: Any, slope: float = 0.2) -> Tensor:
    return LeakyReLU(slope)(x)


def sigmoid(x: Any) -> Tensor:
    return Sigmoid()(x)


def tanh(x: Any) -> Tensor:
    return Tanh()(x)


def softplus(x: Any) -> Tensor:
    return Softplus()(x)


def log_sigmoid(x: Any) -> Tensor:
    return LogSigmoid()(x)
