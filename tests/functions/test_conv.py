import numpy as np
import pytest

import scratchgan as sg
from scratchgan import functions as F
from scratchgan.testing import OpTest, all_cases, check_backward, check_double_backward

CASES = all_cases()


# -- naive expectations: direct loops over output (or input) positions -------------------

def _pad(x, PH, PW):
    return np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))


def naive_conv2d(x, W, b=None, stride=(1, 1), padding=(0, 0)):
    (N, C, H, Wd), (OC, _, KH, KW), (SH, SW), (PH, PW) = x.shape, W.shape, stride, padding
    OH, OW = (H + 2 * PH - KH) // SH + 1, (Wd + 2 * PW - KW) // SW + 1
    xp = _pad(x, PH, PW)
    y = np.zeros((N, OC, OH, OW))
    for oh in range(OH):
        for ow in range(OW):
            patch = xp[:, :, oh * SH:oh * SH + KH, ow * SW:ow * SW + KW]
            y[:, :, oh, ow] = np.einsum("nckl,ockl->no", patch, W)
    return y if b is None else y + b[None, :, None, None]


def naive_conv_transpose2d(x, W, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0)):
    (N, C, H, Wd), (_, OC, KH, KW) = x.shape, W.shape
    (SH, SW), (PH, PW), (OPH, OPW) = stride, padding, output_padding
    OH, OW = (H - 1) * SH - 2 * PH + KH + OPH, (Wd - 1) * SW - 2 * PW + KW + OPW
    yp = np.zeros((N, OC, OH + 2 * PH, OW + 2 * PW))   # the output before cropping the padding
    for h in range(H):
        for w in range(Wd):
            yp[:, :, h * SH:h * SH + KH, w * SW:w * SW + KW] += np.einsum(
                "nc,cokl->nokl", x[:, :, h, w], W)
    y = yp[:, :, PH:PH + OH, PW:PW + OW]
    return y if b is None else y + b[None, :, None, None]


def naive_grad_weight(x, gy, kernel_size, stride=(1, 1), padding=(0, 0)):
    (N, C, _, _), (_, OC, OH, OW) = x.shape, gy.shape
    (KH, KW), (SH, SW), (PH, PW) = kernel_size, stride, padding
    xp = _pad(x, PH, PW)
    gW = np.zeros((OC, C, KH, KW))
    for oh in range(OH):
        for ow in range(OW):
            patch = xp[:, :, oh * SH:oh * SH + KH, ow * SW:ow * SW + KW]
            gW += np.einsum("no,nckl->ockl", gy[:, :, oh, ow], patch)
    return gW


class TestConv2d(OpTest):
    case = CASES["conv2d"]

    def expected(self, x, W, b, stride, padding):
        return naive_conv2d(x, W, b, stride, padding)


class TestConvTranspose2d(OpTest):
    case = CASES["conv_transpose2d"]

    def expected(self, x, W, b, stride, padding, output_padding):
        return naive_conv_transpose2d(x, W, b, stride, padding, output_padding)


class TestConv2dGradWeight(OpTest):
    case = CASES["conv2d_grad_weight"]

    def expected(self, x, gy, kernel_size, stride, padding):
        return naive_grad_weight(x, gy, kernel_size, stride, padding)


# -- plain tests ------------------------------------------------------------------------

def _rand(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


def test_cases_draw_valid_inputs_covering_the_ranges():
    """Seeded draws: every case's make yields inputs the op accepts, across the ranges."""
    rng = np.random.default_rng(0)
    seen_op, seen_stride = set(), set()
    for name in ("conv2d", "conv_transpose2d", "conv2d_grad_weight"):
        case = CASES[name]
        for _ in range(60):
            arrays, params = case.make(lambda lo, hi: int(rng.integers(lo, hi + 1)), rng)
            assert all(a.dtype == np.float64 for a in arrays)
            y = case.call(*[sg.Tensor(a) for a in arrays], **params)
            assert min(y.shape) >= 1
            seen_stride.update(params["stride"])
            seen_op.update(params.get("output_padding", ()))
    assert seen_stride == {1, 2, 3} and seen_op == {0, 1, 2}


def test_without_bias():
    x, W, Wt = _rand(0, 2, 3, 5, 6), _rand(1, 4, 3, 3, 2), _rand(2, 3, 4, 2, 3)
    np.testing.assert_allclose(F.conv2d(x, W, stride=(2, 1), padding=1).data,
                               naive_conv2d(x, W, None, (2, 1), (1, 1)), rtol=1e-12)
    np.testing.assert_allclose(F.conv_transpose2d(x, Wt, stride=2, padding=(1, 0),
                                                  output_padding=1).data,
                               naive_conv_transpose2d(x, Wt, None, (2, 2), (1, 0), (1, 1)),
                               rtol=1e-12)
    check_backward(lambda x, W: F.conv2d(x, W, stride=(2, 1), padding=1), [x, W], mode="full")
    check_double_backward(lambda x, W: F.conv_transpose2d(x, W, stride=2, output_padding=(1, 0)),
                          [x, Wt])


def test_padding_beyond_the_kernel_and_a_stride_past_the_input():
    """Padding >= kernel (outputs that see only zeros) with a stride larger than the
    input: gx needs an output padding of 2 for a 1-pixel-high x."""
    x, W, b = _rand(0, 1, 2, 1, 2), _rand(1, 3, 2, 1, 2), _rand(2, 3)
    f = lambda x, W, b: F.conv2d(x, W, b, stride=3, padding=(1, 2))  # noqa: E731
    np.testing.assert_allclose(f(x, W, b).data, naive_conv2d(x, W, b, (3, 3), (1, 2)), rtol=1e-12)
    check_backward(f, [x, W, b], mode="full")
    check_double_backward(f, [x, W, b], mode="full")


def test_conv2d_gradients_are_the_other_two_ops():
    x, W, b = _rand(0, 2, 3, 7, 6), _rand(1, 4, 3, 3, 2), _rand(2, 4)
    xt, Wt, bt = sg.Tensor(x, requires_grad=True), sg.Tensor(W, requires_grad=True), \
        sg.Tensor(b, requires_grad=True)
    y = F.conv2d(xt, Wt, bt, stride=2, padding=(1, 0))   # (7 + 2 - 3) % 2 = 0, (6 - 2) % 2 = 0
    gy = _rand(3, *y.shape)
    y.backward(gy)
    assert xt.grad.shape == x.shape
    np.testing.assert_allclose(xt.grad.data,
                               F.conv_transpose2d(gy, W, stride=2, padding=(1, 0)).data, rtol=1e-12)
    np.testing.assert_allclose(Wt.grad.data, F.conv2d_grad_weight(x, gy, (3, 2), 2, (1, 0)).data,
                               rtol=1e-12)
    np.testing.assert_allclose(bt.grad.data, gy.sum(axis=(0, 2, 3)), rtol=1e-12)

    # with a stride that leaves rows unused, gx still has x's shape: output_padding fills in
    xt = sg.Tensor(_rand(4, 1, 3, 8, 7), requires_grad=True)
    y = F.conv2d(xt, W, stride=3)                          # OH = 2 with rows 6, 7 unused
    gy = _rand(5, *y.shape)
    y.backward(gy)
    np.testing.assert_allclose(xt.grad.data, F.conv_transpose2d(
        gy, W, stride=3, output_padding=(2, 2)).data, rtol=1e-12)
    assert np.all(xt.grad.data[:, :, 6:, :] == 0)


def test_conv_transpose2d_gradients_are_the_other_two_ops():
    x, W = _rand(0, 2, 3, 4, 5), _rand(1, 3, 2, 3, 3)
    xt, Wt = sg.Tensor(x, requires_grad=True), sg.Tensor(W, requires_grad=True)
    y = F.conv_transpose2d(xt, Wt, stride=(2, 3), padding=1, output_padding=(1, 2))
    gy = _rand(2, *y.shape)
    y.backward(gy)
    np.testing.assert_allclose(xt.grad.data, F.conv2d(gy, W, stride=(2, 3), padding=1).data,
                               rtol=1e-12)
    np.testing.assert_allclose(Wt.grad.data, F.conv2d_grad_weight(gy, x, 3, (2, 3), 1).data,
                               rtol=1e-12)


def test_double_backward_graph_stays_inside_the_family():
    x = sg.Tensor(_rand(0, 2, 2, 5, 5), requires_grad=True)
    W = sg.Tensor(_rand(1, 3, 2, 3, 3), requires_grad=True)
    y = F.conv2d(x, W, stride=2, padding=1)
    gx, gW = sg.grad(y, [x, W], _rand(2, *y.shape), create_graph=True)
    assert isinstance(gx.creator, F.ConvTranspose2d)
    assert isinstance(gW.creator, F.Conv2dGradWeight)
    # a gradient penalty: d/dW of |d<y, gy>/dx|^2 goes through conv_transpose2d's gW
    (gWW,) = sg.grad((gx * gx).sum(), [W])
    assert gWW.shape == W.shape


def test_only_needed_gradients_are_built():
    x = sg.Tensor(_rand(0, 1, 2, 4, 4), requires_grad=True)
    y = F.conv2d(x, _rand(1, 3, 2, 3, 3), _rand(2, 3))     # W and b constant
    (gx,) = sg.grad(y, [x], _rand(3, *y.shape))
    assert gx.shape == x.shape
    fn = y.creator
    assert fn.needs_input_grad == (True, False, False)
    assert not any(isinstance(v, np.ndarray) for v in vars(fn).values()), \
        "a Function keeps no arrays of its own, only its inputs"


def test_float32_stays_float32():
    x = sg.Tensor(_rand(0, 2, 3, 5, 5).astype(np.float32), requires_grad=True)
    W = sg.Tensor(_rand(1, 4, 3, 3, 3).astype(np.float32), requires_grad=True)
    b = sg.Tensor(_rand(2, 4).astype(np.float32), requires_grad=True)
    y = F.conv2d(x, W, b, stride=2, padding=1)
    assert y.dtype == np.float32
    z = F.conv_transpose2d(y, W, b[:3], stride=2, padding=1)
    assert z.dtype == np.float32 and z.shape == (2, 3, 5, 5)
    z.backward(np.ones(z.shape, np.float32))
    assert x.grad.dtype == W.grad.dtype == b.grad.dtype == np.float32


def test_errors():
    x, W = sg.Tensor(np.zeros((2, 3, 5, 5))), sg.Tensor(np.zeros((4, 4, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d: x has 3 channels but W expects 4 "
                                         r"\(x shape .*, W shape \(OC, C, KH, KW\) = \(4, 4, 3, 3\)"):
        F.conv2d(x, W)
    W = sg.Tensor(np.zeros((4, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d: bias has shape \(3,\), expected \(4,\)"):
        F.conv2d(x, W, np.zeros(3))
    with pytest.raises(ValueError, match=r"conv2d: kernel \(KH, KW\) = \(3, 3\) is larger than "
                                         r"the padded input \(H \+ 2PH, W \+ 2PW\) = \(2, 2\)"):
        F.conv2d(np.zeros((1, 3, 2, 2)), W)
    with pytest.raises(ValueError, match=r"conv2d: x must have 4 dimensions"):
        F.conv2d(np.zeros((3, 5, 5)), W)
    with pytest.raises(ValueError, match=r"conv2d: stride must be a positive int .* got 0"):
        F.conv2d(x, W, stride=0)
    with pytest.raises(ValueError, match=r"conv2d: padding must be a non-negative int"):
        F.conv2d(x, W, padding=(1, -1))
    with pytest.raises(ValueError, match=r"conv2d: stride must be a positive int .* \(1, 2, 3\)"):
        F.conv2d(x, W, stride=(1, 2, 3))
    with pytest.raises(TypeError, match=r"different dtypes"):
        F.conv2d(x, sg.Tensor(np.zeros((4, 3, 3, 3), np.float32)))

    Wt = sg.Tensor(np.zeros((3, 4, 3, 3)))
    with pytest.raises(ValueError, match=r"conv_transpose2d: x has 4 channels but W expects 3"):
        F.conv_transpose2d(np.zeros((1, 4, 2, 2)), Wt)
    with pytest.raises(ValueError, match=r"conv_transpose2d: bias has shape \(3,\), "
                                         r"expected \(4,\)"):
        F.conv_transpose2d(x, Wt, np.zeros(3))
    with pytest.raises(ValueError, match=r"conv_transpose2d: output_padding \(2, 2\) must be "
                                         r"smaller than stride \(2, 2\)"):
        F.conv_transpose2d(x, Wt, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"conv_transpose2d: output size \(OH, OW\) = "
                                         r"\(-1, -1\) is not positive"):
        F.conv_transpose2d(np.zeros((1, 3, 1, 1)), Wt, padding=2)

    with pytest.raises(ValueError, match=r"conv2d_grad_weight: gy has shape \(2, 4, 2, 2\) but "
                                         r"a \(3, 3\) kernel"):
        F.conv2d_grad_weight(x, np.zeros((2, 4, 2, 2)), 3)
    with pytest.raises(ValueError, match=r"conv2d_grad_weight: kernel_size must be a positive"):
        F.conv2d_grad_weight(x, np.zeros((2, 4, 2, 2)), (3, 0))


def test_docstrings_have_the_formula_sections():
    for fn in (F.Conv2d, F.ConvTranspose2d, F.Conv2dGradWeight):
        for section in ("Shapes:", "Gradients:", "Double:"):
            assert section in fn.__doc__, f"{fn.__name__} lacks {section}"
