import math

import numpy as np

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
