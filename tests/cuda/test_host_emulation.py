"""The CUDA backend run on the host, for machines without a GPU: the ``.cu`` kernels compiled
as C++ with g++ (``host_emulation.cpp`` shims the CUDA built-ins and runs every (block,
thread) in turn), and the real wrappers of ``scratchgan_kernels.cuda.ops`` driving them,
with NumPy standing in for CuPy. Compared with the NumPy reference, float32 and float64.

What this covers: the wrappers' argument handling, layouts, strides, ``out=`` and the
GEMM compositions of the convolutions, and the arithmetic and indexing of every kernel that
has no ``__syncthreads`` or warp shuffle. What it does not: the block batch-norm kernels
(their launches are answered with the reference here; only their reduction tree is
emulated, in ``test_block_reduction_tree``), real concurrency, NVRTC, cuBLAS. Skipped where
g++ is missing. The GPU tests (``-m gpu``) are the real check.
"""
import ctypes
import importlib.util
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import scratchgan_kernels as K
from scratchgan_kernels.cuda import loader
from scratchgan_kernels.shapes import conv_output_size, conv_transpose_output_size

GXX = shutil.which("g++")
pytestmark = pytest.mark.skipif(GXX is None, reason="g++ is not installed")
HERE = Path(__file__).resolve().parent
DTYPES = [np.float32, np.float64]


@pytest.fixture(scope="module")
def emulators(tmp_path_factory):
    """{dtype: the compiled emulation library}."""
    out = tmp_path_factory.mktemp("emu")
    libs = {}
    for dtype, macro in ((np.float32, "SCRATCHGAN_F32"), (np.float64, "SCRATCHGAN_F64")):
        so = out / f"emu_{macro}.so"
        proc = subprocess.run([GXX, "-O1", "-shared", "-fPIC", "-std=c++17", f"-D{macro}",
                               f"-I{loader.HERE}", "-o", str(so), str(HERE / "host_emulation.cpp")],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        libs[np.dtype(dtype)] = ctypes.CDLL(str(so))
    return libs


def _c_arg(a):
    if isinstance(a, np.ndarray):
        assert a.flags.c_contiguous, "a kernel got a strided array"
        return ctypes.c_void_p(a.ctypes.data)
    if isinstance(a, np.int32):
        return ctypes.c_int(int(a))
    if isinstance(a, np.float32):
        return ctypes.c_float(float(a))
    if isinstance(a, np.float64):
        return ctypes.c_double(float(a))
    raise TypeError(f"a kernel argument of type {type(a).__name__}: pass NumPy scalars")


def _block_batch_norm(kind, args):
    """The bn_*_block launches, answered with the reference (not emulated)."""
    ref = lambda name: K.get(name, "numpy")      # noqa: E731
    if kind == "stats":
        x, mean, var, N, C, L = args
        mean[...], var[...] = ref("batch_norm_stats")(x.reshape(int(N), int(C), int(L)))
    elif kind == "forward":
        x, gamma, beta, y, mean, var, N, C, L, eps = args
        out = ref("batch_norm_forward")(x.reshape(int(N), int(C), int(L)), gamma, beta, eps)
        y[...], mean[...], var[...] = out[0].reshape(y.shape), out[1], out[2]
    else:
        x, gamma, gy, gx, gg, gb, N, C, L, eps = args
        shape = (int(N), int(C), int(L))
        out = ref("batch_norm_backward")(x.reshape(shape), gamma, gy.reshape(shape), eps)
        gx[...], gg[...], gb[...] = out[0].reshape(gx.shape), out[1], out[2]


@pytest.fixture
def ops(emulators, monkeypatch):
    """``scratchgan_kernels.cuda.ops`` loaded with NumPy as its CuPy, its launches run by
    the emulators."""
    fake = types.ModuleType("cupy")
    fake.__getattr__ = lambda name: getattr(np, name)      # cupy.ndarray is np.ndarray, ...
    monkeypatch.setitem(sys.modules, "cupy", fake)
    spec = importlib.util.spec_from_file_location("emulated_cuda_ops", loader.HERE / "ops.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    launched = []

    def function(family, base, dtype):
        def run(grid, block, args):
            launched.append(base)
            assert all(g >= 1 for g in grid) and block[0] % 32 == 0
            if base.endswith("_block"):
                return _block_batch_norm(base.split("_")[1], args)
            getattr(emulators[np.dtype(dtype)], f"run_{base}")(*map(_c_arg, args))
        return run
    monkeypatch.setattr(loader, "function", function)
    module.launched = launched
    return module


def ref(name):
    return K.get(name, "numpy")


def close(got, want, dtype, what):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype == dtype and got.shape == want.shape, what
    tol = 2e-5 if dtype == np.float32 else 1e-12
    scale = max(float(np.abs(want).max()) if want.size else 1.0, 1.0)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale, err_msg=what)


CONV = [(2, 3, 4, 7, 9, 3, 2, 1, 2, 1, 0), (1, 1, 1, 5, 5, 3, 3, 1, 1, 1, 1),
        (3, 2, 5, 8, 6, 4, 4, 2, 2, 1, 1), (2, 4, 1, 6, 7, 1, 3, 3, 1, 0, 2),
        (2, 3, 2, 5, 5, 5, 5, 1, 1, 2, 2), (3, 8, 6, 14, 14, 4, 4, 2, 2, 1, 1)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise_and_adam(ops, dtype):
    rng = np.random.default_rng(0)
    x = (3 * rng.standard_normal((5, 3, 4))).astype(dtype)
    gy = rng.standard_normal(x.shape).astype(dtype)
    np.testing.assert_array_equal(ops.leaky_relu(x, 0.2), ref("leaky_relu")(x, 0.2))
    np.testing.assert_array_equal(ops.leaky_relu_grad(x, gy, 0.2), ref("leaky_relu_grad")(x, gy, 0.2))
    y = x.copy()
    assert ops.leaky_relu(y, 0.0, out=y) is y
    np.testing.assert_array_equal(y, ref("leaky_relu")(x, 0.0))
    b = rng.standard_normal(3).astype(dtype)
    close(ops.bias_add(x, b), ref("bias_add")(x, b), dtype, "bias_add")
    for t in (rng.uniform(0, 1, x.shape), np.asarray(0.9), rng.uniform(0, 1, (1, 3, 1))):
        t = t.astype(dtype)
        close(ops.bce_with_logits(x, t), ref("bce_with_logits")(x, t), dtype, "bce")
        for g in (gy, np.asarray(0.25, dtype)):
            close(ops.bce_with_logits_grad(x, t, g), ref("bce_with_logits_grad")(x, t, g),
                  dtype, "bce grad")
    col = (3 * rng.standard_normal((6, 1))).astype(dtype)          # x broadcast by t
    t = rng.uniform(0, 1, (6, 5)).astype(dtype)
    close(ops.bce_with_logits(col, t), ref("bce_with_logits")(col, t), dtype, "bce bcast")
    for step, wd in ((1, 0.0), (7, 0.01)):
        p, g = (rng.standard_normal((7, 5)).astype(dtype) for _ in range(2))
        m, v = rng.standard_normal((7, 5)).astype(dtype), rng.uniform(0, 1, (7, 5)).astype(dtype)
        want = [a.copy() for a in (p, g, m, v)]
        ref("adam_update")(*want, 2e-4, 0.5, 0.999, 1e-8, step, wd)
        ops.adam_update(p, g.T.copy().T, m, v, 2e-4, 0.5, 0.999, 1e-8, step, wd)
        for got, w, what in ((p, want[0], "param"), (m, want[2], "m"), (v, want[3], "v")):
            close(got, w, dtype, f"adam {what}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV)
def test_columns_and_convolutions(ops, dtype, case):
    N, C, OC, H, W, KH, KW, SH, SW, PH, PW = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    args = (KH, KW, SH, SW, PH, PW)
    np.testing.assert_array_equal(ops.im2col(x, *args), ref("im2col")(x, *args))
    OH, OW = conv_output_size(H, KH, SH, PH), conv_output_size(W, KW, SW, PW)
    cols = rng.standard_normal((N, C, KH, KW, OH, OW)).astype(dtype)
    close(ops.col2im(cols, x.shape, *args), ref("col2im")(cols, x.shape, *args), dtype, "col2im")
    w = rng.standard_normal((OC, C, KH, KW)).astype(dtype)
    s, p = (SH, SW), (PH, PW)
    y = ref("conv2d")(x, w, s, p)
    close(ops.conv2d(x, w, s, p), y, dtype, "conv2d")
    out = np.empty(y.shape, dtype)
    assert ops.conv2d(x.transpose(0, 1, 3, 2).copy().transpose(0, 1, 3, 2), w, s, p, out=out) is out
    close(out, y, dtype, "conv2d strided x, out=")
    gy = rng.standard_normal(y.shape).astype(dtype)
    close(ops.conv2d_grad_weight(x, gy, (KH, KW), s, p),
          ref("conv2d_grad_weight")(x, gy, (KH, KW), s, p), dtype, "grad weight")
    wt = rng.standard_normal((C, OC, KH, KW)).astype(dtype)
    for op in {(0, 0), (SH - 1, SW - 1)}:
        if min(conv_transpose_output_size(n, k, st, pd, o) for n, k, st, pd, o in
               zip((H, W), (KH, KW), (SH, SW), (PH, PW), op)) < 1:
            continue
        close(ops.conv_transpose2d(x, wt, s, p, op), ref("conv_transpose2d")(x, wt, s, p, op),
              dtype, f"conv_transpose2d {op}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 7), (64, 300), (2, 1), (2, 3, 4, 5), (3, 4, 5)])
def test_batch_norm(ops, dtype, shape):
    rng = np.random.default_rng(2)
    C = shape[1]
    x = (2 * rng.standard_normal(shape) + 50).astype(dtype)
    gamma, beta = rng.uniform(0.5, 1.5, C).astype(dtype), rng.standard_normal(C).astype(dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    for got, want in zip(ops.batch_norm_stats(x), ref("batch_norm_stats")(x)):
        close(got, want, dtype, "stats")
    for got, want in zip(ops.batch_norm_forward(x, gamma, beta, 1e-5),
                         ref("batch_norm_forward")(x, gamma, beta, 1e-5)):
        close(got, want, dtype, "forward")
    for got, want in zip(ops.batch_norm_backward(x, gamma, gy, 1e-5),
                         ref("batch_norm_backward")(x, gamma, gy, 1e-5)):
        close(got, want, dtype, "backward")
    layout = "cols" if len(shape) == 2 else "block"
    assert ops.launched[-1] == f"bn_backward_{layout}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,threads", [(12544, 512), (3, 32), (100, 64), (3136, 512)])
def test_block_reduction_tree(emulators, dtype, n, threads):
    """bn_*_block's statistics: per-thread Welford, merged along the shuffle tree."""
    v = (3 * np.random.default_rng(3).standard_normal(n) + 50).astype(dtype)
    out = np.empty(3, dtype)
    emulators[np.dtype(dtype)].block_stats(ctypes.c_void_p(v.ctypes.data), ctypes.c_int(n),
                                           ctypes.c_int(threads), ctypes.c_void_p(out.ctypes.data))
    assert out[2] == n
    want = np.array([v.astype(np.float64).mean(), v.astype(np.float64).var()], dtype)
    close(out[:2], want, dtype, "block stats")
