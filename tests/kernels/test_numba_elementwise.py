"""The numba leaky ReLU, batch-norm and Adam kernels against the reference: float32 and
float64, odd shapes, several channel blocks, out= (in place too), several Adam steps,
strided and channels-last inputs (the layout kept), and the error messages."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba", reason="the numba backend needs numba")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import scratchgan_kernels.cpu as nb  # noqa: E402
import scratchgan_kernels.reference as ref  # noqa: E402

DTYPES = [np.float32, np.float64]
IDS = ["f32", "f64"]
# modest: 20 draws per test under the "ci" profile, 100 under "thorough"
SETTINGS = settings(max_examples=max(20, settings.default.max_examples // 2), deadline=None)
shapes = st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple)
bn_shapes = st.tuples(st.integers(1, 5), st.integers(1, 6)).flatmap(
    lambda nc: st.lists(st.integers(1, 6), max_size=2).map(lambda sp: nc + tuple(sp))
).filter(lambda s: s[0] * int(np.prod(s[2:])) >= 2)


def raises(fn, *args, **kwargs):
    with pytest.raises((ValueError, TypeError)) as info:
        fn(*args, **kwargs)
    return info.type, str(info.value)


# -- leaky ReLU ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**31), slope=st.sampled_from([0.0, 0.01, 0.2, 1.5]))
def test_leaky_relu_is_the_reference_bit_for_bit(dtype, shape, seed, slope):
    rng = np.random.default_rng(seed)
    x, gy = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
    x.flat[0] = 0.0
    for got, want in [(nb.leaky_relu(x, slope), ref.leaky_relu(x, slope)),
                      (nb.leaky_relu_grad(x, gy, slope), ref.leaky_relu_grad(x, gy, slope))]:
        assert got.dtype == dtype and got.shape == shape
        np.testing.assert_array_equal(got, want)


def test_leaky_relu_nan_signed_zero_out_and_strides():
    x = np.array([np.nan, -0.0, 0.0, -2.0, 3.0, np.inf, -np.inf], np.float32)
    np.testing.assert_array_equal(nb.leaky_relu(x, 0.1), ref.leaky_relu(x, 0.1))
    assert np.signbit(nb.leaky_relu(x, 0.1)[1])
    y = x.copy()
    assert nb.leaky_relu(y, 0.1, out=y) is y                        # in place
    np.testing.assert_array_equal(y, ref.leaky_relu(x, 0.1))
    g = np.arange(7, dtype=np.float32)
    assert nb.leaky_relu_grad(x, g, 0.1, out=g) is g
    np.testing.assert_array_equal(g, ref.leaky_relu_grad(x, np.arange(7, dtype=np.float32), 0.1))
    xs = np.random.default_rng(0).standard_normal((6, 5)).T          # strided: copied
    np.testing.assert_array_equal(nb.leaky_relu(xs, 0.2), ref.leaky_relu(xs, 0.2))


def channels_last(a):
    """a (N, C, H, W) with channels-last memory (the same values)."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def is_channels_last(a):
    return a.transpose(0, 2, 3, 1).flags.c_contiguous and not a.flags.c_contiguous


cl_shapes = st.tuples(*[st.integers(1, 5)] * 4).filter(lambda s: s[1] > 1 and s[2] * s[3] > 1)


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@SETTINGS
@given(shape=cl_shapes, seed=st.integers(0, 2**31), gy_layout=st.sampled_from(["cl", "c"]))
def test_leaky_relu_keeps_a_channels_last_layout(dtype, shape, seed, gy_layout):
    """A channels-last x gives a channels-last result (no conversion), equal bit for bit;
    a gy of the other layout is brought to x's."""
    rng = np.random.default_rng(seed)
    x, gy = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
    xc, gyc = channels_last(x), channels_last(gy) if gy_layout == "cl" else gy
    for got, want in [(nb.leaky_relu(xc, 0.2), ref.leaky_relu(x, 0.2)),
                      (nb.leaky_relu_grad(xc, gyc, 0.2), ref.leaky_relu_grad(x, gy, 0.2))]:
        assert is_channels_last(got)
        np.testing.assert_array_equal(got, want)
    out = np.full(shape, np.nan, dtype)                 # a C-order out= is filled
    assert nb.leaky_relu(xc, 0.2, out=out) is out
    np.testing.assert_array_equal(out, ref.leaky_relu(x, 0.2))


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@SETTINGS
@given(shape=cl_shapes, seed=st.integers(0, 2**31), gy_layout=st.sampled_from(["cl", "c"]))
def test_batch_norm_channels_last_matches_the_reference(dtype, shape, seed, gy_layout):
    """Batch norm on channels-last x (the (N*H*W, C) matrix): the reference's values, the
    result channels-last; gy in either layout."""
    x, gamma, beta, gy = bn_inputs(shape, dtype, seed)
    xc = channels_last(x)
    gyc = channels_last(gy) if gy_layout == "cl" else gy
    y, mean, var = nb.batch_norm_forward(xc, gamma, beta, 1e-5)
    gx, ggamma, gbeta = nb.batch_norm_backward(xc, gamma, gyc, 1e-5)
    assert is_channels_last(y) and is_channels_last(gx)
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    for got, want in zip((y, mean, var, gx, ggamma, gbeta),
                         (*ref.batch_norm_forward(x, gamma, beta, 1e-5),
                          *ref.batch_norm_backward(x, gamma, gy, 1e-5))):
        np.testing.assert_allclose(got, want, **tol)
    for got, want in zip(nb.batch_norm_stats(xc), ref.batch_norm_stats(x)):
        np.testing.assert_allclose(got, want, **tol)


def test_leaky_relu_errors():
    x = np.zeros((2, 3), np.float32)
    assert raises(nb.leaky_relu_grad, x, np.zeros((3, 2), np.float32), 0.1) == \
        raises(ref.leaky_relu_grad, x, np.zeros((3, 2), np.float32), 0.1)
    kind, text = raises(nb.leaky_relu, x.astype(np.int64), 0.1)
    assert kind is TypeError and text.startswith("leaky_relu: x has dtype int64")
    kind, text = raises(nb.leaky_relu_grad, x, x.astype(np.float64), 0.1)
    assert kind is TypeError and "inputs must share one dtype" in text and "gy is float64" in text
    kind, text = raises(nb.leaky_relu, x, 0.1, out=np.zeros((3, 2), np.float32).T)
    assert kind is ValueError and text.startswith("leaky_relu: out must be a C-contiguous") \
        and text.endswith("(not contiguous)")


# -- batch norm ------------------------------------------------------------------------

def bn_reference(x, gamma, beta, gy, eps=1e-5):
    """The reference in float64 (inputs upcast): (y, mean, var, gx, ggamma, gbeta)."""
    up = [a.astype(np.float64) for a in (x, gamma, beta, gy)]
    return (*ref.batch_norm_forward(up[0], up[1], up[2], eps),
            *ref.batch_norm_backward(up[0], up[1], up[3], eps))


def check_bn(x, gamma, beta, gy, dtype, eps=1e-5):
    """Close to the float64 reference; in float32 within the float32 reference's own
    error too (a channel of a few nearly equal values is ill-conditioned for both)."""
    want = bn_reference(x, gamma, beta, gy, eps)
    same = (*ref.batch_norm_forward(x, gamma, beta, eps),
            *ref.batch_norm_backward(x, gamma, gy, eps))
    got = (*nb.batch_norm_forward(x, gamma, beta, eps),
           *nb.batch_norm_backward(x, gamma, gy, eps))
    tol = 5e-5 if dtype == np.float32 else 1e-11
    names = ["y", "mean", "var", "gx", "ggamma", "gbeta"]
    for name, g, w, r in zip(names, got, want, same):
        assert g.dtype == dtype and g.shape == w.shape, name
        scale = max(1.0, float(np.max(np.abs(w))))
        allowed = tol * scale + tol * np.abs(w) + 4 * np.abs(r - w)
        bad = np.abs(g - w) > allowed
        assert not bad.any(), (f"{name}: {g[bad]} vs {w[bad]} (float64 reference), "
                               f"{r[bad]} (reference in {np.dtype(dtype)})")
    mean, var = nb.batch_norm_stats(x)
    assert mean.dtype == var.dtype == dtype
    np.testing.assert_array_equal(mean, got[1])
    np.testing.assert_array_equal(var, got[2])


def bn_inputs(shape, dtype, seed, offset=1.0):
    rng = np.random.default_rng(seed)
    C = shape[1]
    x = (rng.standard_normal(shape) * 2 + offset).astype(dtype)
    return (x, rng.standard_normal(C).astype(dtype), rng.standard_normal(C).astype(dtype),
            rng.standard_normal(shape).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@SETTINGS
@given(shape=bn_shapes, seed=st.integers(0, 2**31))
def test_batch_norm_matches_the_reference(dtype, shape, seed):
    check_bn(*bn_inputs(shape, dtype, seed), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("shape", [(3, 2500), (2, 3, 40, 40), (64, 7, 1, 3), (1, 1, 1, 2),
                                   (5, 1030, 1), (2, 300, 2, 3)])
def test_batch_norm_channel_blocks(dtype, shape):
    """Wide BatchNorm1d (several blocks of 1024 channels), planes of more than 1024
    values (one channel per block), blocks that do not divide C, batch and channels of 1."""
    check_bn(*bn_inputs(shape, dtype, 3), dtype)


def test_batch_norm_keeps_float32_accuracy_with_a_large_mean():
    x, gamma, beta, gy = bn_inputs((16, 3, 5, 5), np.float32, 4, offset=1000.0)
    check_bn(x, gamma, beta, gy, np.float32)


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
def test_batch_norm_out_in_place_and_strided_inputs(dtype):
    x, gamma, beta, gy = bn_inputs((4, 3, 5, 2), dtype, 5)
    y_want = nb.batch_norm_forward(x, gamma, beta, 1e-5)[0]
    out = np.full(x.shape, np.nan, dtype)
    assert nb.batch_norm_forward(x, gamma, beta, 1e-5, out=out)[0] is out
    np.testing.assert_array_equal(out, y_want)
    xi = x.copy()
    y, mean, var = nb.batch_norm_forward(xi, gamma, beta, 1e-5, out=xi)     # in place
    assert y is xi
    np.testing.assert_array_equal(xi, y_want)
    np.testing.assert_allclose(mean, ref.batch_norm_stats(x)[0], rtol=1e-5, atol=1e-6)
    xs, gys = np.asfortranarray(x), np.asfortranarray(gy)                    # strided: copied
    np.testing.assert_array_equal(nb.batch_norm_forward(xs, gamma[::1], beta, 1e-5)[0], y_want)
    for g, w in zip(nb.batch_norm_backward(xs, gamma, gys, 1e-5),
                    nb.batch_norm_backward(x, gamma, gy, 1e-5)):
        np.testing.assert_array_equal(g, w)


def test_batch_norm_errors():
    x, g = np.zeros((4, 3, 2), np.float32), np.ones(3, np.float32)
    for fn, args in [("batch_norm_forward", (x, np.ones(2, np.float32), g, 1e-5)),
                     ("batch_norm_forward", (np.zeros(3, np.float32), g, g, 1e-5)),
                     ("batch_norm_backward", (x, g, np.zeros((4, 3, 1), np.float32), 1e-5)),
                     ("batch_norm_backward", (x, np.ones(4, np.float32), x, 1e-5))]:
        assert raises(getattr(nb, fn), *args) == raises(getattr(ref, fn), *args)
    kind, text = raises(nb.batch_norm_forward, x, g.astype(np.float64), g, 1e-5)
    assert kind is TypeError and text.startswith("batch_norm_forward: inputs must share one "
                                                 "dtype") and "gamma is float64" in text
    kind, text = raises(nb.batch_norm_backward, x.astype(np.int32), g.astype(np.int32),
                        x.astype(np.int32), 1e-5)
    assert kind is TypeError and text.startswith("batch_norm_backward: x has dtype int32")
    kind, text = raises(nb.batch_norm_stats, x.astype(np.float16))
    assert kind is TypeError and text.startswith("batch_norm_stats: x has dtype float16")
    kind, text = raises(nb.batch_norm_forward, x, g, g, 1e-5, out=np.zeros((4, 3, 2)))
    assert kind is ValueError and text.startswith("batch_norm_forward: out must be a "
                                                  "C-contiguous float32 array")


# -- Adam ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("shape", [(1,), (7, 3), (2, 3, 4, 5)])
def test_adam_steps_in_place_are_the_reference_bit_for_bit(dtype, weight_decay, shape):
    rng = np.random.default_rng(6)
    states = {k: [rng.standard_normal(shape).astype(dtype)] for k in ("numba", "numpy")}
    states["numpy"] = [states["numba"][0].copy()]
    for s in states.values():
        s += [np.zeros(shape, dtype), np.zeros(shape, dtype)]
    ids = [id(a) for a in states["numba"]]
    for step in range(1, 8):
        grad = rng.standard_normal(shape).astype(dtype)
        assert nb.adam_update(*states["numba"][:1], grad, *states["numba"][1:], 2e-3, 0.5,
                              0.999, 1e-8, step, weight_decay) is None
        ref.adam_update(*states["numpy"][:1], grad, *states["numpy"][1:], 2e-3, 0.5, 0.999,
                        1e-8, step, weight_decay)
        for got, want in zip(states["numba"], states["numpy"]):
            assert got.dtype == dtype
            np.testing.assert_array_equal(got, want)
    assert [id(a) for a in states["numba"]] == ids


def test_adam_strided_grad_is_read_and_errors():
    p, m, v = np.ones((3, 4)), np.zeros((3, 4)), np.zeros((3, 4))
    g = np.arange(12.0).reshape(4, 3).T
    p2, m2, v2 = p.copy(), m.copy(), v.copy()
    nb.adam_update(p, g, m, v, 0.1, 0.9, 0.999, 1e-8, 1)
    ref.adam_update(p2, g, m2, v2, 0.1, 0.9, 0.999, 1e-8, 1)
    np.testing.assert_array_equal(p, p2)
    for args in [(p, g, m, v, 0.1, 0.9, 0.999, 1e-8, 0),                          # step 0
                 (p, g[:, :2], m, v, 0.1, 0.9, 0.999, 1e-8, 1),                   # shape
                 (p, g, m.astype(np.float32), v, 0.1, 0.9, 0.999, 1e-8, 1)]:      # dtype
        assert raises(nb.adam_update, *args) == raises(ref.adam_update, *args)
    pt = np.ones((4, 3)).T                     # updated in place, so it must be contiguous
    kind, text = raises(nb.adam_update, pt, g, m, v, 0.1, 0.9, 0.999, 1e-8, 1)
    assert kind is ValueError and text.startswith("adam_update: param is not C-contiguous")
    kind, text = raises(nb.adam_update, p, g, m, np.zeros((4, 3)).T, 0.1, 0.9, 0.999, 1e-8, 1)
    assert kind is ValueError and text.startswith("adam_update: v is not C-contiguous")
    ints = [np.zeros((2,), np.int64) for _ in range(4)]
    kind, text = raises(nb.adam_update, *ints, 0.1, 0.9, 0.999, 1e-8, 1)
    assert kind is TypeError and text.startswith("adam_update: param has dtype int64")


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@SETTINGS
@given(shape=bn_shapes, seed=st.integers(0, 2**31), slope=st.sampled_from([0.0, 0.2]),
       layout=st.sampled_from(["c", "cl"]))
def test_fused_batch_norm_leaky_relu_matches_its_reference_twin(dtype, shape, seed, slope,
                                                                 layout):
    """The one-pass numba kernels against the reference twin (batch norm, then leaky ReLU;
    backward: the mask, then batch norm's backward, from kernels.portable on NumPy arrays):
    both compared with the twin run in float64, the numba kernels within the twin's own
    rounding error (tiny batches make batch norm ill-conditioned in float32, where the two
    round differently) plus the usual tolerance."""
    from scratchgan_kernels import portable
    x, gamma, beta, gy = bn_inputs(shape, dtype, seed)
    if layout == "cl" and x.ndim == 4:
        x, gy = channels_last(x), channels_last(gy)
    tol = 2e-5 if dtype == np.float32 else 1e-10

    def f64(*arrays):
        return [a.astype(np.float64) for a in arrays]

    def check(got, twin, exact):
        for g, t, e in zip(got, twin, exact):
            assert g.dtype == dtype
            twin_error = float(np.max(np.abs(t - e))) if e.size else 0.0
            np.testing.assert_allclose(g, e, rtol=tol, atol=tol + 2 * twin_error)

    check(nb.batch_norm_leaky_relu_forward(x, gamma, beta, 1e-5, slope),
          portable.batch_norm_leaky_relu_forward(x, gamma, beta, 1e-5, slope),
          portable.batch_norm_leaky_relu_forward(*f64(x, gamma, beta), 1e-5, slope))
    y = portable.batch_norm_leaky_relu_forward(x, gamma, beta, 1e-5, slope)[0]
    check(nb.batch_norm_leaky_relu_backward(x, gamma, y, gy, 1e-5, slope),
          portable.batch_norm_leaky_relu_backward(x, gamma, y, gy, 1e-5, slope),
          portable.batch_norm_leaky_relu_backward(*f64(x, gamma, y, gy), 1e-5, slope))


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_large_arrays_in_blocks_on_the_workers_are_the_reference_bit_for_bit(workers):
    """Arrays of several blocks (leaky ReLU and Adam run them on the workers): the
    reference's values, for any number of workers."""
    from scratchgan_kernels import parallel
    rng = np.random.default_rng(7)
    n = 3 * (1 << 16) + 123
    x, gy = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    p, g = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    m, v = rng.standard_normal(n).astype(np.float32), rng.uniform(0, 1, n).astype(np.float32)
    old = parallel.set_workers(workers)
    try:
        np.testing.assert_array_equal(nb.leaky_relu(x, 0.2), ref.leaky_relu(x, 0.2))
        np.testing.assert_array_equal(nb.leaky_relu_grad(x, gy, 0.2),
                                      ref.leaky_relu_grad(x, gy, 0.2))
        got, want = (p.copy(), m.copy(), v.copy()), (p.copy(), m.copy(), v.copy())
        nb.adam_update(got[0], g, got[1], got[2], 1e-3, 0.5, 0.999, 1e-8, 3)
        ref.adam_update(want[0], g, want[1], want[2], 1e-3, 0.5, 0.999, 1e-8, 3)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
    finally:
        parallel.set_workers(old)
