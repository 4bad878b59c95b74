"""The numba backend's matmul: NumPy's product, split in blocks of rows on the workers for
large 2-D products, with the same result for any number of workers."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba", reason="the numba backend needs numba")

import scratchgan_kernels.cpu as nb  # noqa: E402
import scratchgan_kernels.reference as ref  # noqa: E402
from scratchgan_kernels import parallel  # noqa: E402

SHAPES = [((3, 4), (4, 5)), ((64, 100), (100, 12544)), ((100, 400), (400, 400)),
          ((37, 300), (300, 129)), ((2000, 64), (64, 100)), ((2, 17, 300), (300, 200)),
          ((5, 3, 7), (5, 7, 2))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("transposed", [False, True])
def test_matmul_matches_the_reference(dtype, shapes, transposed):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shapes[0]).astype(dtype)
    b = rng.standard_normal(shapes[1]).astype(dtype)
    if transposed:          # a dense layer's W.T: a transposed view, read as it is
        b = np.ascontiguousarray(np.swapaxes(b, -1, -2)).swapaxes(-1, -2)
    got, want = nb.matmul(a, b), ref.KERNELS["matmul"](a, b)
    assert got.dtype == dtype and got.shape == want.shape
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(1.0, np.abs(want).max()))


@pytest.mark.parametrize("shapes", [((100, 490), (490, 400)),     # wide: column blocks
                                    ((1000, 490), (490, 100))])   # tall: row blocks
def test_matmul_is_the_same_for_any_number_of_workers(shapes):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shapes[0]).astype(np.float32)
    b = rng.standard_normal(shapes[1]).astype(np.float32)
    results = []
    for workers in (1, 2, 3):
        old = parallel.set_workers(workers)
        try:
            results.append(nb.matmul(a, b))
        finally:
            parallel.set_workers(old)
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_matmul_errors_and_out():
    with pytest.raises(ValueError, match="do not multiply"):
        nb.matmul(np.zeros((2, 3), np.float32), np.zeros((4, 5), np.float32))
    a, b = np.ones((64, 128), np.float32), np.ones((128, 256), np.float32)
    out = np.empty((64, 256), np.float32)
    assert nb.matmul(a, b, out=out) is out and np.all(out == 128)
