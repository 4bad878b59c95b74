import math

import numpy as np

from scratchgan import Tensor
from scratchgan import functions as F
from scratchgan.testing import OpTest, all_cases

CASES = all_cases()


def elementwise(fn, *arrays):
    """Apply a scalar math function element by element (the naive expectation)."""
    arrays = np.broadcast_arrays(*arrays)
    return np.array([fn(*vals) for vals in zip(*(a.ravel() for a in arrays))]).reshape(arrays[0].shape)


class TestAdd(OpTest):
    case = CASES["add"]

    def expected(self, a, b):
        return elementwise(lambda u, v: u + v, a, b)


class TestSub(OpTest):
    case = CASES["sub"]

    def expected(self, a, b):
        return elementwise(lambda u, v: u - v, a, b)


class TestMul(OpTest):
    case = CASES["mul"]

    def expected(self, a, b):
        return elementwise(lambda u, v: u * v, a, b)


class TestDiv(OpTest):
    case = CASES["div"]

    def expected(self, a, b):
        return elementwise(lambda u, v: u / v, a, b)


class TestNeg(OpTest):
    case = CASES["neg"]

    def expected(self, x):
        return elementwise(lambda u: -u, x)


class TestPow(OpTest):
    case = CASES["pow"]

    def expected(self, x, c):
        return elementwise(lambda u: math.pow(u, c), x)


class TestExp(OpTest):
    case = CASES["exp"]

    def expected(self, x):
        return elementwise(math.exp, x)


class TestLog(OpTest):
    case = CASES["log"]

    def expected(self, x):
        return elementwise(math.log, x)


class TestSqrt(OpTest):
    case = CASES["sqrt"]

    def expected(self, x):
        return elementwise(math.sqrt, x)


class TestAbs(OpTest):
    case = CASES["abs"]

    def expected(self, x):
        return elementwise(abs, x)


class TestAbsGrad(OpTest):
    case = CASES["abs_grad"]

    def expected(self, x, gy):
        return elementwise(lambda v, g: g * math.copysign(1.0, v), x, gy)


def test_the_subgradient_of_abs_is_zero_at_zero():
    x = Tensor(np.array([-2.0, 0.0, 3.0]), requires_grad=True)
    F.abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, 0.0, 1.0])
