"""Build, cache and launch the CUDA kernels of ``scratchgan_kernels.cuda``.

The kernels live in ``.cu`` files next to this module (installed as package data), one
file per family:

    elementwise.cu   leaky_relu_fwd/bwd, bias_add, bce_with_logits_fwd/bwd
    batchnorm.cu     bn_{stats,forward,backward}_{block,cols}
    conv.cu          im2col, col2im
    optim.cu         adam

and share ``common.cuh``. Each family is compiled once per dtype: the source given to
NVRTC is ``#define SCRATCHGAN_F32 1`` (or ``_F64``) followed by the file with its
``#include "common.cuh"`` replaced by the header's text, so the module of one dtype holds
only that dtype's kernels, exported under C names ``<base>_f32`` / ``<base>_f64``. The
``cupy.RawModule`` is made on first use and kept (``functools.cache``; CuPy also caches
the compiled binary on disk), and so is each ``get_function`` result.

Nothing here imports CuPy at import time: the name and source functions are plain Python
(tested on machines without a GPU, and the nvcc test compiles exactly ``build_source``'s
output); ``module``, ``function`` and ``launch`` import it when first called.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

HERE = Path(__file__).resolve().parent
HEADER = "common.cuh"
FAMILIES = ("elementwise", "batchnorm", "conv", "optim")
DTYPES = {np.dtype(np.float32): ("f32", "SCRATCHGAN_F32"),
          np.dtype(np.float64): ("f64", "SCRATCHGAN_F64")}
#: NVRTC options of every module (the dtype is chosen by a #define inside the source)
OPTIONS = ("--std=c++17",)
THREADS = 256                # threads per block of the element-wise launches
MAX_BLOCKS = 8192            # grid cap of the grid-stride launches
INT32_MAX = 2 ** 31 - 1
_INCLUDE = re.compile(r'^\s*#\s*include\s+"common\.cuh"\s*$', re.MULTILINE)
_KERNEL = re.compile(r'extern\s+"C"\s+__global__\s+void\s+SG_NAME\((\w+)\)')


def dtype_suffix(dtype: Any) -> str:
    """``"f32"`` or ``"f64"``; a TypeError for any other dtype."""
    try:
        return DTYPES[np.dtype(dtype)][0]
    except (KeyError, TypeError):
        raise TypeError(f"the CUDA kernels take float32 or float64 arrays, got dtype "
                        f"{dtype}") from None


def kernel_name(base: str, dtype: Any) -> str:
    """The exported name of kernel ``base`` for ``dtype``: ``leaky_relu_fwd_f32``."""
    return f"{base}_{dtype_suffix(dtype)}"


def source_path(family: str) -> Path:
    """The ``.cu`` file of a kernel family."""
    if family not in FAMILIES:
        raise ValueError(f"unknown CUDA kernel family {family!r}; known: {', '.join(FAMILIES)}")
    return HERE / f"{family}.cu"


def kernel_bases(family: str) -> list[str]:
    """The kernels a family's source defines (``extern "C" __global__ void SG_NAME(x)``)."""
    return _KERNEL.findall(source_path(family).read_text())


def build_source(family: str, dtype: Any) -> str:
    """The CUDA source compiled for (family, dtype): the dtype's #define, then the family's
    file with the shared header inlined (one self-contained string: NVRTC needs no include
    path, and CuPy's cache key, the source text, changes when the header does)."""
    dtype_suffix(dtype)              # a TypeError for other dtypes
    macro = DTYPES[np.dtype(dtype)][1]
    text = source_path(family).read_text()
    if len(_INCLUDE.findall(text)) != 1:
        raise ValueError(f"{family}.cu must include {HEADER} exactly once")
    header = (HERE / HEADER).read_text().replace("#pragma once", "")
    body = _INCLUDE.sub(lambda _: f"// ---- {HEADER} ----\n{header}\n// ---- {family}.cu ----",
                        text)
    return f"#define {macro} 1\n{body}"


def launch_config(n: int, threads: int = THREADS, max_blocks: int = MAX_BLOCKS
                  ) -> tuple[tuple[int], tuple[int]]:
    """(grid, block) of a grid-stride launch over ``n`` items."""
    blocks = max(1, min(-(-int(n) // threads), max_blocks))
    return (blocks,), (threads,)


def check_int32(op: str, *sizes: int) -> None:
    """The kernels index with 32-bit ints: refuse sizes that would overflow them."""
    big = max((int(s) for s in sizes), default=0)
    if big > INT32_MAX:
        raise ValueError(f"{op}: {big} elements is too many for the CUDA kernels' 32-bit "
                         f"indexing (at most {INT32_MAX}); split the batch")


# -- CuPy from here on (imported on first use) -----------------------------------------

@functools.cache
def module(family: str, dtype: str) -> Any:
    """The ``cupy.RawModule`` of a family for one dtype (``"float32"``/``"float64"``),
    built once per process."""
    import cupy
    return cupy.RawModule(code=build_source(family, dtype), options=OPTIONS)


@functools.cache
def function(family: str, base: str, dtype: str) -> Any:
    """The ``cupy.RawKernel`` of one kernel for one dtype, looked up once."""
    return module(family, dtype).get_function(kernel_name(base, dtype))


def launch(family: str, base: str, dtype: Any, n: int, args: Sequence[Any],
           threads: int = THREADS) -> None:
    """Launch ``base`` over ``n`` items (grid-stride) on the current stream. Scalars in
    ``args`` must already be NumPy scalars of the kernel's parameter types (np.int32 for
    int, the dtype for real): CuPy passes a Python float as a double."""
    if n <= 0:
        return
    grid, block = launch_config(n, threads)
    function(family, base, np.dtype(dtype).name)(grid, block, tuple(args))


def launch_blocks(family: str, base: str, dtype: Any, blocks: int, threads: int,
                  args: Sequence[Any]) -> None:
    """Launch ``base`` with exactly ``blocks`` blocks of ``threads`` threads."""
    if blocks <= 0:
        return
    function(family, base, np.dtype(dtype).name)((int(blocks),), (int(threads),), tuple(args))
