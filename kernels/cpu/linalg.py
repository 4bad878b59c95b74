"""Matrix products on the kernel workers (the dense layers' products).

``matmul(a, b)`` is NumPy's ``a @ b``. A large enough 2-D product is cut into 2 or 4
blocks (their number and bounds from the shapes only), each block's product on one BLAS
thread, written straight into its part of the result, run on the workers of
``scratchgan_kernels.parallel``; each output value comes from one block, so the result is
the same for any number of workers. The blocks are columns of ``b`` where the result is
wide (measured: blocks of rows of ``a`` cost BLAS 30-130% more there, with 100-400 rows,
blocks of columns 2-10%), else rows of ``a`` where it is tall (the dense layer's weight
gradient, 12544 x 100). Anything else (stacked products, small ones) is one ``np.matmul``.
Inputs are read in any layout (a dense layer's ``W.T`` is a transposed view).
"""
from __future__ import annotations

import numpy as np

from scratchgan_kernels.cpu._common import check_out
from scratchgan_kernels.parallel import parallel_for

MIN_PARALLEL_MACS = 1 << 20    # smaller products are not split
MIN_BLOCK = 192                # columns (or rows) per block, at least


def _blocks(n: int) -> int:
    """2 or 4 blocks of at least MIN_BLOCK along an axis of length n where it allows, else 1."""
    k = min(4, n // MIN_BLOCK)
    return k - k % 2 if k >= 2 else 1


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a @ b (leading axes broadcast as batches); ``out`` as NumPy's."""
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not multiply")
    if a.ndim > 2 or b.ndim > 2:
        return np.matmul(a, b, out=out)
    (M, K), N = a.shape, b.shape[1]
    by_columns = _blocks(N) > 1
    blocks = _blocks(N) if by_columns else _blocks(M)
    if M * N * K < MIN_PARALLEL_MACS or blocks == 1:
        return np.matmul(a, b, out=out)
    dtype = np.result_type(a, b)
    check_out("matmul", out, (M, N), dtype)
    y = np.empty((M, N), dtype) if out is None else out
    if by_columns:
        w = -(-N // blocks)
        parallel_for(blocks, lambda k: np.matmul(a, b[:, k * w:(k + 1) * w],
                                                 out=y[:, k * w:(k + 1) * w]))
    else:
        h = -(-M // blocks)
        parallel_for(blocks, lambda k: np.matmul(a[k * h:(k + 1) * h], b,
                                                 out=y[k * h:(k + 1) * h]))
    return y
