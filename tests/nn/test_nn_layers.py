"""Each layer's forward against a naive computation written here (loops or einsum)."""
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scratchgan as sg
from scratchgan import nn

SMALL = settings(deadline=None)


def naive_conv2d(x, W, b, stride, padding):
    """y[n, o, i, j] = b[o] + sum_{c,p,q} W[o, c, p, q] xpad[n, c, i*S + p, j*S + q]."""
    N, C, H, Wd = x.shape
    OC, _, KH, KW = W.shape
    xp = np.zeros((N, C, H + 2 * padding, Wd + 2 * padding), x.dtype)
    xp[:, :, padding:padding + H, padding:padding + Wd] = x
    OH = (H + 2 * padding - KH) // stride + 1
    OW = (Wd + 2 * padding - KW) // stride + 1
    y = np.zeros((N, OC, OH, OW))
    for i in range(OH):
        for j in range(OW):
            patch = xp[:, :, i * stride:i * stride + KH, j * stride:j * stride + KW]
            y[:, :, i, j] = np.einsum("ncpq,ocpq->no", patch, W)
    return y + (0 if b is None else b[None, :, None, None])


def naive_conv_transpose2d(x, W, b, stride, padding, output_padding):
    """Scatter: x[n, c, h, w] W[c, o, p, q] lands at (h*S + p - P, w*S + q - P)."""
    N, C, H, Wd = x.shape
    _, OC, KH, KW = W.shape
    OH = (H - 1) * stride - 2 * padding + KH + output_padding
    OW = (Wd - 1) * stride - 2 * padding + KW + output_padding
    y = np.zeros((N, OC, OH, OW))
    for h in range(H):
        for w in range(Wd):
            for p in range(KH):
                for q in range(KW):
                    i, j = h * stride + p - padding, w * stride + q - padding
                    if 0 <= i < OH and 0 <= j < OW:
                        y[:, :, i, j] += np.einsum("nc,co->no", x[:, :, h, w], W[:, :, p, q])
    return y + (0 if b is None else b[None, :, None, None])


@SMALL
@given(n=st.integers(1, 4), i=st.integers(1, 5), o=st.integers(1, 5), bias=st.booleans(),
       lead=st.integers(0, 1))
def test_linear_forward(n, i, o, bias, lead):
    layer = nn.Linear(i, o, bias=bias)
    assert layer.weight.shape == (o, i) and layer.weight.dtype == np.float32
    x = np.random.default_rng(n).standard_normal((2,) * lead + (n, i)).astype(np.float32)
    want = np.einsum("...i,oi->...o", x, layer.weight.data)
    if bias:
        want = want + layer.bias.data
    np.testing.assert_allclose(layer(x).data, want, rtol=1e-5, atol=1e-6)


@SMALL
@given(c=st.integers(1, 3), oc=st.integers(1, 3), k=st.integers(1, 3), s=st.integers(1, 2),
       p=st.integers(0, 1), h=st.integers(3, 6), bias=st.booleans())
def test_conv2d_forward(c, oc, k, s, p, h, bias):
    layer = nn.Conv2d(c, oc, k, stride=s, padding=p, bias=bias).to(dtype=np.float64)
    assert layer.weight.shape == (oc, c, k, k)
    x = np.random.default_rng(h).standard_normal((2, c, h, h + 1))
    want = naive_conv2d(x, layer.weight.data, layer.bias.data if bias else None, s, p)
    np.testing.assert_allclose(layer(x).data, want, rtol=1e-10, atol=1e-12)


@SMALL
@given(c=st.integers(1, 3), oc=st.integers(1, 3), k=st.integers(1, 4), s=st.integers(1, 2),
       p=st.integers(0, 1), h=st.integers(1, 4), bias=st.booleans(), data=st.data())
def test_conv_transpose2d_forward(c, oc, k, s, p, h, bias, data):
    op = data.draw(st.integers(0, s - 1))
    if (h - 1) * s - 2 * p + k + op < 1:
        return
    layer = nn.ConvTranspose2d(c, oc, k, s, p, op, bias=bias).to(dtype=np.float64)
    assert layer.weight.shape == (c, oc, k, k)
    x = np.random.default_rng(h).standard_normal((2, c, h, h))
    want = naive_conv_transpose2d(x, layer.weight.data, layer.bias.data if bias else None, s, p, op)
    np.testing.assert_allclose(layer(x).data, want, rtol=1e-10, atol=1e-12)


def test_dcgan_shapes():
    z = nn.Unflatten(1, (8, 7, 7))(np.zeros((2, 8 * 49), np.float32))
    up = nn.ConvTranspose2d(8, 4, 4, 2, 1)(z)
    assert up.shape == (2, 4, 14, 14)
    assert nn.Conv2d(4, 2, 4, 2, 1)(up).shape == (2, 2, 7, 7)


def test_conv_argument_and_input_errors():
    with pytest.raises(ValueError, match="kernel_size must be a positive int"):
        nn.Conv2d(1, 1, 0)
    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        nn.Conv2d(0, 1, 3)
    with pytest.raises(ValueError, match="output_padding .* must be smaller than the stride"):
        nn.ConvTranspose2d(1, 1, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8\) expects input of shape \(N, 3, H, W\), "
                                         r"got \(2, 1, 5, 5\)"):
        nn.Conv2d(3, 8, 3)(np.zeros((2, 1, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"last axis must have 4 features, got shape \(2, 3\)"):
        nn.Linear(4, 1)(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="out_features must be a positive int"):
        nn.Linear(2, 0)
    assert "output_padding=(1, 1)" in repr(nn.ConvTranspose2d(1, 1, 3, 2, 1, 1))
    assert "bias=False" in repr(nn.Conv2d(1, 1, 3, bias=False))


def test_activations():
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(nn.LeakyReLU(0.3)(x).data, [v if v > 0 else 0.3 * v for v in x])
    np.testing.assert_allclose(nn.LeakyReLU()(x).data, [v if v > 0 else 0.2 * v for v in x])
    np.testing.assert_allclose(nn.ReLU()(x).data, [max(v, 0) for v in x])
    np.testing.assert_allclose(nn.Tanh()(x).data, [np.tanh(v) for v in x])
    np.testing.assert_allclose(nn.Sigmoid()(x).data, [1 / (1 + np.exp(-v)) for v in x])
    assert list(nn.ReLU().parameters()) == []


def test_flatten_and_unflatten():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    np.testing.assert_array_equal(nn.Flatten()(x).data[1], x[1].ravel())
    assert nn.Flatten(2)(x).shape == (2, 3, 20)
    y = nn.Unflatten(1, (3, 4, 5))(x.reshape(2, 60))
    np.testing.assert_array_equal(y.data, x)
    assert nn.Unflatten(-1, (2, 2))(np.zeros((3, 4))).shape == (3, 2, 2)
    with pytest.raises(ValueError, match=r"axis 1 of the input must have 60 elements, "
                                         r"got shape \(2, 59\)"):
        nn.Unflatten(1, (3, 4, 5))(np.zeros((2, 59)))
    with pytest.raises(ValueError, match="positive ints"):
        nn.Unflatten(1, (3, 0))


def test_sequential_container():
    a, b, c = nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c] and seq[0] is a and seq[-1] is c
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    assert list(seq[1:]) == [b, c] and isinstance(seq[1:], nn.Sequential)
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    np.testing.assert_allclose(seq(x).data, c(b(a(x))).data)
    assert seq.append(nn.Sigmoid()) is seq and len(seq) == 4
    with pytest.raises(IndexError, match="out of range for 4 modules"):
        seq[4]
    with pytest.raises(TypeError, match="holds Modules"):
        nn.Sequential(a, np.tanh)


def test_embedding_forward_and_errors():
    emb = nn.Embedding(5, 3)
    assert emb.weight.shape == (5, 3)
    labels = np.array([[4, 0], [2, 2]])
    out = emb(labels)
    assert out.shape == (2, 2, 3)
    for i in range(2):
        for j in range(2):
            np.testing.assert_array_equal(out.data[i, j], emb.weight.data[labels[i, j]])
    np.testing.assert_array_equal(emb(sg.Tensor(np.array([1, 3]))).data, emb.weight.data[[1, 3]])
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 5\), "
                                         r"got values from 0 to 5"):
        emb(np.array([0, 5]))
    with pytest.raises(ValueError, match="from -1"):
        emb(np.array([-1, 2]))
    with pytest.raises(TypeError, match="labels must be integers, got dtype float64"):
        emb(np.array([1.0]))


def test_embedding_gradient_accumulates_repeated_labels():
    emb = nn.Embedding(4, 2)
    labels = np.array([1, 3, 1, 1])
    gy = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    emb(labels).backward(gy)
    want = np.zeros((4, 2), np.float32)
    for k, label in enumerate(labels):
        want[label] += gy[k]
    np.testing.assert_allclose(emb.weight.grad.data, want, rtol=1e-6)


def test_dropout_layer_drops_in_training_and_is_the_identity_in_eval():
    from scratchgan import random as sg_random
    layer = nn.Dropout(0.5)
    assert repr(layer) == "Dropout(p=0.5)" and layer.num_parameters() == 0
    x = sg.Tensor(np.ones((4, 64)))
    sg_random.manual_seed(0)
    y = layer(x).numpy()
    assert set(np.unique(y)) == {0.0, 2.0}
    assert layer.eval()(x) is x
    with pytest.raises(ValueError, match=r"Dropout: p \(the dropout probability\) must be in "
                                         r"\[0, 1\), got 1.0"):
        nn.Dropout(1.0)


@pytest.mark.parametrize("act", [nn.LeakyReLU(0.2), nn.ReLU()])
@pytest.mark.parametrize("training", [True, False])
def test_sequential_fuses_batch_norm_and_activation(act, training):
    """BatchNorm then LeakyReLU/ReLU in a Sequential runs as one fused op, with the values,
    gradients and running statistics of the two modules run one after the other."""
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((4, 3, 5, 5)).astype(np.float32)
    gy = rng.standard_normal(x0.shape).astype(np.float32)
    gamma = rng.uniform(0.5, 1.5, 3).astype(np.float32)
    results = []
    for fused in (True, False):
        bn = nn.BatchNorm2d(3)
        bn.weight.data = gamma.copy()
        bn.train(training)
        x = sg.Tensor(x0.copy(), requires_grad=True)
        y = nn.Sequential(bn, act)(x) if fused else act(bn(x))
        assert (type(y.creator).__name__ == "BatchNormLeakyReLU") == (fused and training)
        y.backward(gy)
        results.append([y.data, x.grad.data, bn.weight.grad.data if training else 0,
                        bn.running_mean.copy(), bn.running_var.copy()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), "0.2", True])
def test_float_arguments_must_be_finite_numbers(bad):
    """Each layer (and init function) with a float argument refuses NaN, infinities and
    non-numbers, naming itself, the argument and the value."""
    from scratchgan.nn import init
    weight = sg.Tensor(np.zeros((2, 3)))
    calls = [
        ("LeakyReLU: negative_slope must be a finite number", lambda: nn.LeakyReLU(bad)),
        ("BatchNorm2d: eps must be positive and finite", lambda: nn.BatchNorm2d(3, eps=bad)),
        ("BatchNorm1d: momentum must be in [0, 1]", lambda: nn.BatchNorm1d(3, momentum=bad)),
        ("Dropout: p (the dropout probability) must be in [0, 1)", lambda: nn.Dropout(bad)),
        ("MinibatchStd: eps must be positive and finite", lambda: nn.MinibatchStd(bad)),
        ("spectral_norm: eps must be positive and finite",
         lambda: nn.spectral_norm(nn.Linear(3, 2), eps=bad)),
        ("normal_: std must be a finite number >= 0", lambda: init.normal_(weight, std=bad)),
        ("normal_: mean must be a finite number", lambda: init.normal_(weight, mean=bad)),
        ("uniform_: b must be a finite number", lambda: init.uniform_(weight, 0.0, bad)),
        ("calculate_gain: the leaky_relu slope must be a finite number",
         lambda: init.calculate_gain("leaky_relu", bad)),
    ]
    for message, call in calls:
        with pytest.raises(ValueError, match=re.escape(f"{message}, got {bad!r}")):
            call()
    assert nn.LeakyReLU(np.float32(0.1)).negative_slope == pytest.approx(0.1)
