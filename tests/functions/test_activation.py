import math

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import functions as F
from scratchgan.testing import OpTest, all_cases
from tests.functions.test_arithmetic import elementwise

CASES = all_cases()


class TestReLU(OpTest):
    case = CASES["relu"]

    def expected(self, x):
        return elementwise(lambda u: u if u > 0 else 0.0, x)


class TestLeakyReLU(OpTest):
    case = CASES["leaky_relu"]

    def expected(self, x, slope):
        return elementwise(lambda u: u if u > 0 else slope * u, x)


class TestLeakyReLUGrad(OpTest):
    case = CASES["leaky_relu_grad"]

    def expected(self, x, gy, slope):
        return elementwise(lambda u, g: g if u > 0 else slope * g, x, gy)


class TestSigmoid(OpTest):
    case = CASES["sigmoid"]

    def expected(self, x):
        return elementwise(lambda u: 1 / (1 + math.exp(-u)), x)


class TestTanh(OpTest):
    case = CASES["tanh"]

    def expected(self, x):
        return elementwise(math.tanh, x)


class TestSoftplus(OpTest):
    case = CASES["softplus"]

    def expected(self, x):
        return elementwise(lambda u: math.log(1 + math.exp(u)), x)


class TestLogSigmoid(OpTest):
    case = CASES["log_sigmoid"]

    def expected(self, x):
        return elementwise(lambda u: -math.log(1 + math.exp(-u)), x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturating_activations_stay_finite_at_large_inputs(dtype):
    x = sg.Tensor(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype), requires_grad=True)
    for fn, want in [(F.sigmoid, [0, 0, 0.5, 1, 1]), (F.softplus, [0, 0, math.log(2), 50, 1000]),
                     (F.log_sigmoid, [-1000, -50, -math.log(2), 0, 0])]:
        y = fn(x)
        np.testing.assert_allclose(y.data, want, atol=1e-6, rtol=1e-6)
        y.sum().backward()
        assert np.all(np.isfinite(x.grad.data))
        x.zero_grad()
