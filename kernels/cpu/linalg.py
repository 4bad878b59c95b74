"""Matrix products on the kernel workers (the dense layers' products).

``matmul(a, b)`` is NumPy's ``a @ b``. A large enough 2-D product is cut into blocks of
columns of ``b`` (2 or 4, from the shapes only; measured: blocks of rows of ``a`` cost
BLAS 30-130% more, blocks of columns 2-10%), each block's product on one BLAS thread
written straight into its columns of the result, run on the workers of
``scratchgan_kernels.parallel``; each output value comes from one block, so the result is
the same for any number of workers. Anything else (stacked products, small ones) is one
``np.matmul``.
"""
from __future__ import annotations

import numpy as np

from scratchgan_kernels.cpu._common import check_inputs, check_out
from scratchgan_kernels.parallel import parallel_for

MIN_PARALLEL_MACS = 1 << 20    # smaller products are not split
MIN_BLOCK_COLUMNS = 192        # columns per block, at least


def _column_blocks(N: int) -> int:
    """2 or 4 blocks of at least MIN_BLOCK_COLUMNS columns where N allows, else 1."""
    n = min(4, N // MIN_BLOCK_COLUMNS)
    return n - n % 2 if n >= 2 else 1


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a @ b (leading axes broadcast as batches); ``out`` as NumPy's."""
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not multiply")
    if a.ndim > 2 or b.ndim > 2:
        return np.matmul(a, b, out=out)
    dtype, _ = check_inputs("matmul", a=a, b=b)
    (M, K), N = a.shape, b.shape[1]
    blocks = _column_blocks(N)
    if M * N * K < MIN_PARALLEL_MACS or blocks == 1:
        return np.matmul(a, b, out=out)
    check_out("matmul", out, (M, N), dtype)
    y = np.empty((M, N), dtype) if out is None else out
    cols = -(-N // blocks)
    parallel_for(blocks, lambda k: np.matmul(a, b[:, k * cols:(k + 1) * cols],
                                             out=y[:, k * cols:(k + 1) * cols]))
    return y
