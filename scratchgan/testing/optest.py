"""OpTest: forward, backward and double-backward tests for one op, on every backend.

Subclass it in a pytest module, name the catalogue case and give a naive NumPy
expectation (a loop or einsum, never the op itself)::

    class TestTanh(OpTest):
        case = CASES["tanh"]
        def expected(self, x):
            return np.array([math.tanh(v) for v in x.ravel()]).reshape(x.shape)

hypothesis draws the sizes through the case's ``make``; each test runs under every
kernel backend present (``scratchgan.backend.cpu_backends()``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import cpu_backends
from scratchgan.config import using_config
from scratchgan.testing.catalog import OpCase
from scratchgan.testing.gradcheck import check_backward, check_double_backward


def draw_case(case: OpCase, data: st.DataObject) -> tuple[tuple[np.ndarray, ...], dict[str, Any]]:
    """The case's inputs and params, sizes drawn by hypothesis."""
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    return case.make(lambda lo, hi: data.draw(st.integers(lo, hi)), np.random.default_rng(seed))


_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                           HealthCheck.differing_executors])


class OpTest:
    """Base class; see the module docstring. Subclasses set ``case`` and ``expected``."""

    case: OpCase
    forward_rtol = {np.float32: 1e-4, np.float64: 1e-10}

    def expected(self, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError

    @_SETTINGS
    @given(data=st.data())
    def test_forward(self, data):
        arrays, params = draw_case(self.case, data)
        wants = self.expected(*arrays, **params)
        wants = wants if isinstance(wants, (tuple, list)) else (wants,)
        for backend in cpu_backends():
            for dtype, rtol in self.forward_rtol.items():
                with using_config("cpu_kernels", backend):
                    gots = self.case.call(*[Tensor(a.astype(dtype)) for a in arrays], **params)
                gots = gots if isinstance(gots, tuple) else (gots,)
                assert len(gots) == len(wants), f"{self.case.name}: {len(gots)} outputs"
                for k, (got, want) in enumerate(zip(gots, wants)):
                    where = (f"{self.case.name} forward output {k}, backend {backend}, "
                             f"{dtype.__name__}, params {params}")
                    assert got.dtype == dtype, f"{where}: {got.dtype} out"
                    np.testing.assert_allclose(got.numpy(), np.asarray(want), rtol=rtol,
                                               atol=rtol, err_msg=where)

    @_SETTINGS
    @given(data=st.data())
    def test_backward(self, data):
        arrays, params = draw_case(self.case, data)
        for backend in cpu_backends():
            with using_config("cpu_kernels", backend):
                check_backward(lambda *xs: self.case.call(*xs, **params), arrays,
                               **self.case.tolerances)

    @_SETTINGS
    @given(data=st.data())
    def test_double_backward(self, data):
        arrays, params = draw_case(self.case, data)
        for backend in cpu_backends():
            with using_config("cpu_kernels", backend):
                check_double_backward(lambda *xs: self.case.call(*xs, **params), arrays,
                                      **self.case.tolerances)
