"""The numba conv kernels against the reference: every layout of every op, float32 and
float64, C-contiguous and channels-last inputs, odd sizes, strides, padding, non-square
kernels, output padding, batch and channels of 1, several chunks, out=, strided inputs,
the output layouts, and the error messages."""
from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest

pytest.importorskip("numba", reason="the numba backend needs numba")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import scratchgan_kernels.reference as ref  # noqa: E402
from scratchgan_kernels.cpu import conv as nb  # noqa: E402

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}
# modest: 20 draws per test under the "ci" profile, 100 under "thorough"
SETTINGS = settings(max_examples=max(20, settings.default.max_examples // 2), deadline=None)


@contextmanager
def layout(pick: str, name: str, chunk: int | None = None):
    """Force the layout that ``nb._pick_<pick>`` would choose (and the chunk size)."""
    with mock.patch.object(nb, f"_pick_{pick}", lambda *a: name):
        if chunk is None:
            yield
        else:
            with mock.patch.object(nb, "CHUNK_ELEMENTS", chunk):
                yield


def scaled_close(got, want, dtype):
    """allclose relative to the largest value (sums of many products lose low digits)."""
    assert got.dtype == dtype and got.shape == want.shape
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=TOL[dtype]["rtol"],
                               atol=TOL[dtype]["atol"] * scale)


@st.composite
def problems(draw, stride_one=False, pad_below_kernel=False):
    """A conv problem: x (N, C, H, W), W (OC, C, KH, KW), stride, padding, and gy."""
    N, C, OC = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 5))
    KH, KW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    SH, SW = (1, 1) if stride_one else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    PH = draw(st.integers(0, min(2, KH - 1) if pad_below_kernel else 2))
    PW = draw(st.integers(0, min(2, KW - 1) if pad_below_kernel else 2))
    H = draw(st.integers(max(1, KH - 2 * PH), 9))
    W = draw(st.integers(max(1, KW - 2 * PW), 9))
    seed = draw(st.integers(0, 2**32 - 1))
    return (N, C, OC, H, W, KH, KW, SH, SW, PH, PW, seed)


def arrays(problem, dtype):
    N, C, OC, H, W, KH, KW, SH, SW, PH, PW, seed = problem
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    Wt = rng.standard_normal((OC, C, KH, KW)).astype(dtype)
    OH, OW = (H + 2 * PH - KH) // SH + 1, (W + 2 * PW - KW) // SW + 1
    gy = rng.standard_normal((N, OC, OH, OW)).astype(dtype)
    # the output padding that takes the transposed conv of gy back to x's size
    op = (H - ((OH - 1) * SH - 2 * PH + KH), W - ((OW - 1) * SW - 2 * PW + KW))
    return x, Wt, gy, (SH, SW), (PH, PW), op


def channels_last(a):
    """a (N, C, H, W) with channels-last memory (the same values)."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


LAYOUTS = [  # (op, layout, chunk sizes to try, needs stride 1)
    ("conv2d", "rows", (None, 1), False), ("conv2d", "cols", (None,), False),
    ("conv2d", "direct", (None,), True), ("conv2d", "taps", (None,), True),
    ("conv_transpose2d", "rows", (None, 1), False), ("conv_transpose2d", "cols", (None,), False),
    ("conv_transpose2d", "as_conv2d", (None,), True),
    ("grad_weight", "rows", (None, 1), False), ("grad_weight", "cols", (None,), False),
    ("grad_weight", "direct", (None,), True), ("grad_weight", "taps", (None,), True),
]
PICKERS = {"conv2d": "conv2d", "conv_transpose2d": "conv_transpose2d",
           "grad_weight": "conv2d"}   # the weight gradient takes conv2d's layout


@pytest.mark.parametrize("memory", ["nchw", "channels_last"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("op_name,name,chunks,stride_one", LAYOUTS,
                         ids=[f"{p}-{n}" for p, n, _, _ in LAYOUTS])
@SETTINGS
@given(data=st.data())
def test_every_layout_matches_the_reference(op_name, name, chunks, stride_one, dtype, memory,
                                            data):
    problem = data.draw(problems(stride_one=stride_one,
                                 pad_below_kernel=name == "as_conv2d"), label="problem")
    x, Wt, gy, stride, padding, op = arrays(problem, dtype)
    if memory == "channels_last":
        x, gy = channels_last(x), channels_last(gy)
    pick = PICKERS[op_name]
    for chunk in chunks:
        with layout(pick, name, chunk):
            if op_name == "conv2d":
                got, want = nb.conv2d(x, Wt, stride, padding), ref.conv2d(x, Wt, stride, padding)
            elif op_name == "conv_transpose2d":
                got = nb.conv_transpose2d(gy, Wt, stride, padding, op)
                want = ref.conv_transpose2d(gy, Wt, stride, padding, op)
            else:
                got = nb.conv2d_grad_weight(x, gy, Wt.shape[2:], stride, padding)
                want = ref.conv2d_grad_weight(x, gy, Wt.shape[2:], stride, padding)
        scaled_close(got, want, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@SETTINGS
@given(problem=problems())
def test_default_layouts_and_column_kernels_match_the_reference(dtype, problem):
    x, Wt, gy, stride, padding, op = arrays(problem, dtype)
    scaled_close(nb.conv2d(x, Wt, stride, padding), ref.conv2d(x, Wt, stride, padding), dtype)
    scaled_close(nb.conv_transpose2d(gy, Wt, stride, padding, op),
                 ref.conv_transpose2d(gy, Wt, stride, padding, op), dtype)
    scaled_close(nb.conv2d_grad_weight(x, gy, Wt.shape[2:], stride, padding),
                 ref.conv2d_grad_weight(x, gy, Wt.shape[2:], stride, padding), dtype)
    KH, KW = Wt.shape[2:]
    args = (KH, KW, *stride, *padding)
    cols = nb.im2col(x, *args)
    np.testing.assert_array_equal(cols, ref.im2col(x, *args))
    assert cols.dtype == dtype
    g = np.random.default_rng(problem[-1]).standard_normal(cols.shape).astype(dtype)
    scaled_close(nb.col2im(g, x.shape, *args), ref.col2im(g, x.shape, *args), dtype)


# the DCGAN-28 layers at batch 2: (C, OC, H, kernel, stride, padding, transposed)
DCGAN = [(1, 64, 28, 4, 2, 1, False), (64, 128, 14, 4, 2, 1, False),
         (256, 128, 7, 4, 2, 1, True), (128, 64, 14, 4, 2, 1, True), (64, 1, 28, 3, 1, 1, False)]


@pytest.mark.parametrize("layer", DCGAN, ids=["D1", "D2", "G1", "G2", "G3"])
def test_dcgan_layers_forward_and_both_gradients(layer):
    C, OC, H, k, s, p, transposed = layer
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, C, H, H)).astype(np.float32)
    if transposed:
        Wt = rng.standard_normal((C, OC, k, k)).astype(np.float32)
        gy = rng.standard_normal((2, OC, (H - 1) * s - 2 * p + k, (H - 1) * s - 2 * p + k)
                                 ).astype(np.float32)
        calls = [("conv_transpose2d", (x, Wt, s, p)), ("conv2d", (gy, Wt, s, p)),
                 ("conv2d_grad_weight", (gy, x, k, s, p))]
    else:
        Wt = rng.standard_normal((OC, C, k, k)).astype(np.float32)
        OH = (H + 2 * p - k) // s + 1
        gy = rng.standard_normal((2, OC, OH, OH)).astype(np.float32)
        op = H - ((OH - 1) * s - 2 * p + k)
        calls = [("conv2d", (x, Wt, s, p)), ("conv_transpose2d", (gy, Wt, s, p, op)),
                 ("conv2d_grad_weight", (x, gy, k, s, p))]
    for name, args in calls:
        scaled_close(getattr(nb, name)(*args), getattr(ref, name)(*args), np.float32)


def test_activations_stay_channels_last_through_the_dcgan_layers():
    """The conv outputs a network passes on are channels-last, so the next conv, batch norm
    or activation needs no layout conversion (the C = 1 image layers are both layouts)."""
    rng = np.random.default_rng(0)
    g = rng.standard_normal((2, 256, 7, 7)).astype(np.float32)    # G.fc's output, C order
    w1, w2 = (rng.standard_normal(s).astype(np.float32) for s in ((256, 128, 4, 4),
                                                                  (128, 64, 4, 4)))
    h1 = nb.conv_transpose2d(g, w1, 2, 1)
    h2 = nb.conv_transpose2d(h1, w2, 2, 1)
    img = nb.conv2d(h2, rng.standard_normal((1, 64, 3, 3)).astype(np.float32), 1, 1)
    d1 = nb.conv2d(img, rng.standard_normal((64, 1, 4, 4)).astype(np.float32), 2, 1)
    d2 = nb.conv2d(d1, rng.standard_normal((128, 64, 4, 4)).astype(np.float32), 2, 1)
    for a in (h1, h2, img, d1, d2):
        assert a.transpose(0, 2, 3, 1).flags.c_contiguous, a.shape
    assert not h2.flags.c_contiguous     # truly channels-last, not only by C = 1
    # and the gradients flowing back: dX of D2 (C = 64) and of G3 (a stride-1 conv)
    gx = nb.conv_transpose2d(d2, rng.standard_normal((128, 64, 4, 4)).astype(np.float32), 2, 1)
    gx3 = nb.conv_transpose2d(img, rng.standard_normal((1, 64, 3, 3)).astype(np.float32), 1, 1)
    for a in (gx, gx3):
        assert a.transpose(0, 2, 3, 1).flags.c_contiguous and not a.flags.c_contiguous


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_out_is_written_and_returned(dtype):
    x, Wt, gy, stride, padding, op = arrays((2, 3, 4, 7, 6, 3, 2, 2, 1, 1, 0, 5), dtype)
    cases = [
        ("conv2d", (x, Wt, stride, padding), gy.shape),
        ("conv_transpose2d", (gy, Wt, stride, padding, op), x.shape),
        ("conv2d_grad_weight", (x, gy, Wt.shape[2:], stride, padding), Wt.shape),
        ("im2col", (x, 3, 2, *stride, *padding), ref.im2col(x, 3, 2, *stride, *padding).shape),
    ]
    for name, args, shape in cases:
        out = np.full(shape, np.nan, dtype)
        got = getattr(nb, name)(*args, out=out)
        assert got is out
        scaled_close(out, getattr(ref, name)(*args), dtype)
    cols = ref.im2col(x, 3, 2, *stride, *padding)
    out = np.full(x.shape, np.nan, dtype)
    assert nb.col2im(cols, x.shape, 3, 2, *stride, *padding, out=out) is out
    scaled_close(out, ref.col2im(cols, x.shape, 3, 2, *stride, *padding), dtype)


def test_strided_inputs_are_copied_not_refused():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 7, 3, 2)).astype(np.float32).transpose(3, 2, 1, 0)  # (2,3,7,5)
    Wt = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)[:, :, ::-1]
    assert not x.flags.c_contiguous and not Wt.flags.c_contiguous
    scaled_close(nb.conv2d(x, Wt, 2, 1), ref.conv2d(x, Wt, 2, 1), np.float32)
    gy = np.asfortranarray(ref.conv2d(x, Wt, 2, 1))
    scaled_close(nb.conv2d_grad_weight(x, gy, 3, 2, 1), ref.conv2d_grad_weight(x, gy, 3, 2, 1),
                 np.float32)
    scaled_close(nb.conv_transpose2d(gy, Wt, 2, 1), ref.conv_transpose2d(gy, Wt, 2, 1),
                 np.float32)


# -- errors --------------------------------------------------------------------------

def message(fn, *args, **kwargs):
    with pytest.raises((ValueError, TypeError)) as info:
        fn(*args, **kwargs)
    return info.type, str(info.value)


SHAPE_ERRORS = [
    ("conv2d", (np.zeros((1, 3, 5, 5)), np.zeros((2, 4, 3, 3)))),                 # channels
    ("conv2d", (np.zeros((1, 3, 2, 2)), np.zeros((2, 3, 5, 5)))),                 # kernel too big
    ("conv2d", (np.zeros((3, 5, 5)), np.zeros((2, 3, 3, 3)))),                    # 3-D x
    ("conv2d", (np.zeros((1, 3, 5, 5)), np.zeros((2, 3, 3, 3)), 0)),              # stride 0
    ("conv2d", (np.zeros((1, 3, 5, 5)), np.zeros((2, 3, 3, 3)), 1, -1)),          # padding
    ("conv_transpose2d", (np.zeros((1, 3, 5, 5)), np.zeros((3, 2, 3, 3)), 2, 0, 2)),  # OPH >= SH
    ("conv_transpose2d", (np.zeros((1, 3, 5, 5)), np.zeros((4, 2, 3, 3)))),
    ("conv_transpose2d", (np.zeros((1, 3, 1, 1)), np.zeros((3, 2, 1, 1)), 1, 1)),  # size <= 0
    ("conv2d_grad_weight", (np.zeros((1, 3, 5, 5)), np.zeros((1, 2, 4, 4)), 3)),   # gy shape
    ("conv2d_grad_weight", (np.zeros((1, 3, 5, 5)), np.zeros((1, 2, 3, 3)), (3, True))),
    ("im2col", (np.zeros((1, 3, 2, 2)), 5, 5, 1, 1, 0, 0)),
    ("col2im", (np.zeros((1, 3, 2, 2, 1, 1)), (1, 3, 4, 4), 2, 2, 1, 1, 0, 0)),
]


@pytest.mark.parametrize("name,args", SHAPE_ERRORS)
def test_shape_errors_are_the_reference_ones(name, args):
    assert message(getattr(nb, name), *args) == message(getattr(ref, name), *args)


def test_dtype_errors_name_the_kernel_and_the_argument():
    x, W = np.zeros((1, 2, 4, 4)), np.zeros((3, 2, 3, 3))
    # mixed dtypes: the reference's message
    assert message(nb.conv2d, x.astype(np.float32), W) == message(ref.conv2d,
                                                                  x.astype(np.float32), W)
    for name, args, arg in [("conv2d", (x.astype(np.int64), W.astype(np.int64)), "x"),
                            ("conv_transpose2d", (np.zeros((1, 3, 4, 4), np.float16),
                                                  W.astype(np.float16)), "x"),
                            ("conv2d_grad_weight", (x.astype(int), np.zeros((1, 3, 2, 2), int),
                                                    3), "x"),
                            ("im2col", (x.astype(np.int32), 3, 3, 1, 1, 0, 0), "x"),
                            ("col2im", (np.zeros((1, 2, 3, 3, 2, 2), np.int8), (1, 2, 4, 4),
                                        3, 3, 1, 1, 0, 0), "cols")]:
        kind, text = message(getattr(nb, name), *args)
        assert kind is TypeError
        assert text.startswith(f"{name}: {arg} has dtype ") and "float32 or float64" in text


def test_out_errors():
    x, W = np.zeros((1, 2, 4, 4), np.float32), np.zeros((3, 2, 3, 3), np.float32)
    bad = [np.zeros((1, 3, 2, 2), np.float64),                  # dtype
           np.zeros((1, 3, 2, 3), np.float32),                  # shape
           np.zeros((1, 3, 2, 4), np.float32)[..., ::2]]         # not contiguous
    for out in bad:
        kind, text = message(nb.conv2d, x, W, out=out)
        assert kind is ValueError and text.startswith("conv2d: out must be a C-contiguous "
                                                      "float32 array of shape (1, 3, 2, 2)")
    assert message(nb.conv2d, x, W, out=bad[2])[1].endswith("(not contiguous)")
    ro = np.zeros((1, 3, 2, 2), np.float32)
    ro.flags.writeable = False
    assert message(nb.conv2d, x, W, out=ro) == (ValueError, "conv2d: out is read-only")
    kind, text = message(nb.conv_transpose2d, np.zeros((1, 3, 2, 2), np.float32), W,
                         out=np.zeros((1, 2, 4, 4), np.float64))
    assert kind is ValueError and text.startswith("conv_transpose2d: out must be")
