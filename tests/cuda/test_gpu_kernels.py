"""Parity of every ``cuda`` kernel with the NumPy reference, on float32 and float64: odd
sizes, stride > 1, padding, non-square kernels, batch or channels of 1, ``out=``, strided
inputs, and the reference's error messages. Needs a GPU (marker ``gpu``)."""
import numpy as np
import pytest

import scratchgan_kernels as K
from scratchgan_kernels.shapes import conv_output_size, conv_transpose_output_size

pytestmark = pytest.mark.gpu

DTYPES = [np.float32, np.float64]


def ref(name):
    return K.get(name, "numpy")


def gpu(name):
    return K.get(name, "cuda")


def host(a):
    return a.get() if hasattr(a, "get") and not isinstance(a, np.ndarray) else np.asarray(a)


def assert_close(got, want, dtype, what=""):
    """float32: GEMM and reduction orders differ from NumPy's, so relative to the result's
    scale; float64: near exact."""
    got, want = host(got), np.asarray(want)
    assert got.dtype == want.dtype == dtype, f"{what}: dtype {got.dtype}, want {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, want {want.shape}"
    scale = float(np.max(np.abs(want))) if want.size else 1.0
    tol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(scale, 1.0), err_msg=what)


def draw(cp, rng, shape, dtype):
    a = rng.standard_normal(shape).astype(dtype)
    return a, cp.asarray(a)


# -- the table is complete -------------------------------------------------------------------

def test_cuda_has_every_kernel_of_the_reference_and_the_portable_module():
    from scratchgan_kernels import portable, reference
    from scratchgan_kernels.cuda import ops
    assert set(ops.KERNELS) == set(reference.KERNELS) | set(portable.KERNELS)
    for name, fn in ops.KERNELS.items():
        assert K.get(name, "cuda") is fn
    assert "cuda" in K.available_backends()


# -- element-wise ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7,), (3, 5, 2), (64, 128, 7, 7), (1,)])
@pytest.mark.parametrize("slope", [0.2, 0.0])
def test_leaky_relu(cp, dtype, shape, slope):
    rng = np.random.default_rng(0)
    x, gx = draw(cp, rng, shape, dtype)
    gy, ggy = draw(cp, rng, shape, dtype)
    # the float leaky ReLU is exact: bit for bit
    np.testing.assert_array_equal(host(gpu("leaky_relu")(gx, slope)), ref("leaky_relu")(x, slope))
    np.testing.assert_array_equal(host(gpu("leaky_relu_grad")(gx, ggy, slope)),
                                  ref("leaky_relu_grad")(x, gy, slope))
    y = gx.copy()
    assert gpu("leaky_relu")(y, slope, out=y) is y                     # in place
    np.testing.assert_array_equal(host(y), ref("leaky_relu")(x, slope))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4, 5), (1, 1, 1, 1), (64, 128, 7, 7)])
def test_bias_add(cp, dtype, shape):
    rng = np.random.default_rng(1)
    x, gx = draw(cp, rng, shape, dtype)
    b, gb = draw(cp, rng, (shape[1],), dtype)
    assert_close(gpu("bias_add")(gx, gb), ref("bias_add")(x, b), dtype, "bias_add")
    assert gpu("bias_add")(gx, gb, out=gx) is gx
    assert_close(gx, ref("bias_add")(x, b), dtype, "bias_add in place")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("t_shape", ["same", "scalar", "row", "column-broadcasts-x"])
def test_bce_with_logits_and_its_gradient(cp, dtype, t_shape):
    rng = np.random.default_rng(2)
    x = (4 * rng.standard_normal((6, 1) if t_shape == "column-broadcasts-x" else (6, 5))
         ).astype(dtype)
    x[0, 0], x[-1, -1] = 80, -80                         # far out: still finite
    t = {"same": rng.uniform(0, 1, x.shape), "scalar": np.array(0.9),
         "row": rng.uniform(0, 1, (1, 5)), "column-broadcasts-x": rng.uniform(0, 1, (6, 5))
         }[t_shape].astype(dtype)
    gx, gt = cp.asarray(x), cp.asarray(t)
    want = ref("bce_with_logits")(x, t)
    assert_close(gpu("bce_with_logits")(gx, gt), want, dtype, "bce")
    for gy in (rng.standard_normal(want.shape).astype(dtype), np.asarray(0.25, dtype)):
        assert_close(gpu("bce_with_logits_grad")(gx, gt, cp.asarray(gy)),
                     ref("bce_with_logits_grad")(x, t, gy), dtype, "bce grad")


# -- batch norm --------------------------------------------------------------------------------

BN_SHAPES = [(5, 7), (64, 12544), (2, 3), (3, 4, 5), (2, 3, 4, 5), (64, 128, 7, 7),
             (1, 2, 1, 3), (64, 64, 14, 14)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batch_norm(cp, dtype, shape):
    rng = np.random.default_rng(3)
    C = shape[1]
    # an offset mean and a spread scale per channel: one-pass statistics must not cancel
    x = (rng.standard_normal(shape) * rng.uniform(0.5, 3, C).reshape((1, C) + (1,) * (len(shape) - 2))
         + 50).astype(dtype)
    gamma = rng.uniform(0.5, 1.5, C).astype(dtype)
    beta, gy = rng.standard_normal(C).astype(dtype), rng.standard_normal(shape).astype(dtype)
    g = {k: cp.asarray(v) for k, v in dict(x=x, gamma=gamma, beta=beta, gy=gy).items()}
    for got, want, what in zip(gpu("batch_norm_stats")(g["x"]), ref("batch_norm_stats")(x),
                               ("mean", "var")):
        assert_close(got, want, dtype, f"stats {what}")
    for got, want, what in zip(gpu("batch_norm_forward")(g["x"], g["gamma"], g["beta"], 1e-5),
                               ref("batch_norm_forward")(x, gamma, beta, 1e-5),
                               ("y", "mean", "var")):
        assert_close(got, want, dtype, f"forward {what}")
    for got, want, what in zip(gpu("batch_norm_backward")(g["x"], g["gamma"], g["gy"], 1e-5),
                               ref("batch_norm_backward")(x, gamma, gy, 1e-5),
                               ("gx", "ggamma", "gbeta")):
        assert_close(got, want, dtype, f"backward {what}")
    y = g["x"].copy()                                    # out may be x itself
    gpu("batch_norm_forward")(y, g["gamma"], g["beta"], 1e-5, out=y)
    assert_close(y, ref("batch_norm_forward")(x, gamma, beta, 1e-5)[0], dtype, "in place")


def test_batch_norm_errors_are_the_references(cp):
    x, gamma = cp.zeros((2, 3, 4), cp.float32), cp.ones(4, cp.float32)
    with pytest.raises(ValueError, match=r"gamma has shape \(4,\), expected \(3,\)"):
        gpu("batch_norm_forward")(x, gamma, gamma, 1e-5)
    with pytest.raises(TypeError, match="inputs must share one dtype"):
        gpu("batch_norm_forward")(x, cp.ones(3), cp.ones(3), 1e-5)


# -- columns and convolutions ---------------------------------------------------------------------

# N, C, OC, H, W, KH, KW, SH, SW, PH, PW
CONV = [(2, 3, 4, 7, 9, 3, 2, 1, 2, 1, 0), (1, 1, 1, 5, 5, 3, 3, 1, 1, 1, 1),
        (3, 2, 5, 8, 6, 4, 4, 2, 2, 1, 1), (2, 4, 1, 6, 7, 1, 3, 3, 1, 0, 2),
        (4, 1, 64, 28, 28, 4, 4, 2, 2, 1, 1), (8, 64, 128, 14, 14, 4, 4, 2, 2, 1, 1),
        (8, 64, 1, 28, 28, 3, 3, 1, 1, 1, 1), (2, 3, 2, 5, 5, 5, 5, 1, 1, 2, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV)
def test_columns(cp, dtype, case):
    N, C, _, H, W, KH, KW, SH, SW, PH, PW = case
    rng = np.random.default_rng(4)
    x, gx = draw(cp, rng, (N, C, H, W), dtype)
    args = (KH, KW, SH, SW, PH, PW)
    np.testing.assert_array_equal(host(gpu("im2col")(gx, *args)), ref("im2col")(x, *args))
    OH, OW = conv_output_size(H, KH, SH, PH), conv_output_size(W, KW, SW, PW)
    cols, gcols = draw(cp, rng, (N, C, KH, KW, OH, OW), dtype)
    assert_close(gpu("col2im")(gcols, (N, C, H, W), *args), ref("col2im")(cols, (N, C, H, W), *args),
                 dtype, "col2im")
    out = cp.empty((N, C, KH, KW, OH, OW), dtype)
    assert gpu("im2col")(gx, *args, out=out) is out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV)
def test_conv2d_and_its_weight_gradient(cp, dtype, case):
    N, C, OC, H, W, KH, KW, SH, SW, PH, PW = case
    rng = np.random.default_rng(5)
    x, gx = draw(cp, rng, (N, C, H, W), dtype)
    w, gw = draw(cp, rng, (OC, C, KH, KW), dtype)
    s, p = (SH, SW), (PH, PW)
    y = ref("conv2d")(x, w, s, p)
    assert_close(gpu("conv2d")(gx, gw, s, p), y, dtype, "conv2d")
    out = cp.empty(y.shape, dtype)
    assert gpu("conv2d")(gx, gw, s, p, out=out) is out
    assert_close(out, y, dtype, "conv2d out=")
    gy, ggy = draw(cp, rng, y.shape, dtype)
    assert_close(gpu("conv2d_grad_weight")(gx, ggy, (KH, KW), s, p),
                 ref("conv2d_grad_weight")(x, gy, (KH, KW), s, p), dtype, "grad weight")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV)
def test_conv_transpose2d(cp, dtype, case):
    N, C, OC, H, W, KH, KW, SH, SW, PH, PW = case
    rng = np.random.default_rng(6)
    x, gx = draw(cp, rng, (N, C, H, W), dtype)
    w, gw = draw(cp, rng, (C, OC, KH, KW), dtype)
    for op in {(0, 0), (SH - 1, SW - 1)}:
        if min(conv_transpose_output_size(n, k, s, p, o) for n, k, s, p, o in
               zip((H, W), (KH, KW), (SH, SW), (PH, PW), op)) < 1:
            continue
        want = ref("conv_transpose2d")(x, w, (SH, SW), (PH, PW), op)
        got = gpu("conv_transpose2d")(gx, gw, (SH, SW), (PH, PW), op)
        assert_close(got, want, dtype, f"conv_transpose2d output_padding {op}")
        again = gpu("conv_transpose2d")(gx, gw, (SH, SW), (PH, PW), op)
        np.testing.assert_array_equal(host(again), host(got))      # a gather: deterministic


@pytest.mark.parametrize("dtype", DTYPES)
def test_strided_inputs_are_read_correctly(cp, dtype):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 3, 9, 8)).astype(dtype).transpose(0, 1, 3, 2)  # (5, 3, 8, 9)
    w = rng.standard_normal((3, 4, 3, 3)).astype(dtype).transpose(1, 0, 2, 3)  # (4, 3, 3, 3)
    gx, gw = cp.asarray(x), cp.asarray(w)
    assert not gx.flags.c_contiguous
    assert_close(gpu("conv2d")(gx, gw, 2, 1), ref("conv2d")(x, w, 2, 1), dtype, "strided")
    assert_close(gpu("leaky_relu")(gx, 0.2), ref("leaky_relu")(x, 0.2), dtype, "strided")


def test_conv_errors_are_the_references(cp):
    x, w = np.zeros((1, 2, 5, 5), np.float32), np.zeros((3, 4, 3, 3), np.float32)
    with pytest.raises(ValueError) as want:
        ref("conv2d")(x, w)
    with pytest.raises(ValueError) as got:
        gpu("conv2d")(cp.asarray(x), cp.asarray(w))
    assert str(got.value) == str(want.value)
    with pytest.raises(TypeError, match="conv2d: x must be a CuPy array, got ndarray"):
        gpu("conv2d")(np.zeros((1, 4, 5, 5), np.float32), cp.asarray(w))
    with pytest.raises(TypeError, match="float32 or float64"):
        gpu("leaky_relu")(cp.zeros(3, cp.int32), 0.2)
    gx = cp.zeros((1, 3, 5, 5), cp.float32)
    with pytest.raises(ValueError, match="out must be a C-contiguous"):
        gpu("conv2d")(gx, cp.zeros((2, 3, 3, 3), cp.float32), 1, 1,
                      out=cp.zeros((1, 5, 5, 2), cp.float32).transpose(0, 3, 1, 2))


# -- Adam ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("step,weight_decay", [(1, 0.0), (7, 0.01)])
def test_adam_update(cp, dtype, step, weight_decay):
    rng = np.random.default_rng(8)
    p, g = (rng.standard_normal((33, 17)).astype(dtype) for _ in range(2))
    m, v = rng.standard_normal((33, 17)).astype(dtype), rng.uniform(0, 1, (33, 17)).astype(dtype)
    gp, gg, gm, gv = (cp.asarray(a) for a in (p, g, m, v))
    args = (2e-4, 0.5, 0.999, 1e-8, step, weight_decay)
    ref("adam_update")(p, g, m, v, *args)
    gpu("adam_update")(gp, gg, gm, gv, *args)
    for got, want, what in ((gp, p, "param"), (gm, m, "m"), (gv, v, "v")):
        assert_close(got, want, dtype, what)
    with pytest.raises(ValueError, match="param is not C-contiguous"):
        gpu("adam_update")(cp.asarray(p).T, cp.asarray(g).T, cp.asarray(m).T, cp.asarray(v).T,
                           *args)
    with pytest.raises(ValueError, match="step counts from 1"):
        gpu("adam_update")(gp, gg, gm, gv, 1e-3, 0.9, 0.999, 1e-8, 0)
