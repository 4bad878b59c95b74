"""spectral_norm: sigma against np.linalg.svd, train/eval behaviour of u and v, the
state it adds, and a gradient that stays right when u moves between forward and backward."""
import numpy as np
import pytest

from scratchgan import nn
from scratchgan.random import manual_seed


def as_matrix(weight, dim):
    """The weight with the output-channel axis first, the rest flattened."""
    return np.moveaxis(weight, dim, 0).reshape(weight.shape[dim], -1)


@pytest.mark.parametrize("make, dim", [(lambda: nn.Linear(6, 4), 0),
                                       (lambda: nn.Conv2d(3, 5, 3), 0),
                                       (lambda: nn.ConvTranspose2d(3, 5, 4, 2, 1), 1)],
                         ids=["Linear", "Conv2d", "ConvTranspose2d"])
def test_normalized_weight_has_spectral_norm_one(make, dim):
    manual_seed(0)
    layer = nn.spectral_norm(make(), n_power_iterations=5).to(dtype=np.float64)
    x = np.zeros((1, 6) if isinstance(layer, nn.Linear) else (1, 3, 4, 4))
    for _ in range(20):
        layer(x)
    W = as_matrix(layer.weight_orig.data, dim)
    sigma = np.linalg.svd(W, compute_uv=False)[0]
    np.testing.assert_allclose(layer.weight.data, layer.weight_orig.data / sigma, rtol=1e-6)
    assert np.linalg.svd(as_matrix(layer.weight.data, dim), compute_uv=False)[0] == \
        pytest.approx(1.0, rel=1e-6)
    assert layer.weight_u.shape == (W.shape[0],) and layer.weight_v.shape == (W.shape[1],)


def test_state_names_and_parameters():
    layer = nn.spectral_norm(nn.Linear(3, 2))
    assert [n for n, _ in layer.named_parameters()] == ["bias", "weight_orig"]
    assert list(layer.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert layer.weight.shape == (2, 3) and not isinstance(layer.weight, nn.Parameter)
    assert layer.num_parameters() == 8
    other = nn.spectral_norm(nn.Linear(3, 2))
    other.load_state_dict(layer.state_dict())
    np.testing.assert_array_equal(other.eval()(np.ones((1, 3), np.float32)).data,
                                  layer.eval()(np.ones((1, 3), np.float32)).data)


def test_training_updates_u_and_v_eval_keeps_them():
    layer = nn.spectral_norm(nn.Linear(5, 4))
    x = np.ones((2, 5), np.float32)
    u0 = layer.weight_u.copy()
    layer(x)
    assert not np.allclose(layer.weight_u, u0)
    u1, v1 = layer.weight_u.copy(), layer.weight_v.copy()
    layer.eval()
    layer(x)
    np.testing.assert_array_equal(layer.weight_u, u1)
    np.testing.assert_array_equal(layer.weight_v, v1)
    np.testing.assert_allclose(np.linalg.norm(u1), 1, rtol=1e-6)


def test_gradient_uses_the_u_v_of_its_own_forward():
    """D(real), D(fake), one backward: the second forward moves u and v in place,
    the first output's gradient must still be the one of its own (u, v)."""
    manual_seed(3)
    layer = nn.spectral_norm(nn.Linear(4, 3)).to(dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 4))
    first = layer(x)
    state = layer.state_dict()
    layer(x * 2)  # updates u, v
    first.sum().backward()
    twin = nn.spectral_norm(nn.Linear(4, 3)).to(dtype=np.float64)
    twin.load_state_dict(state)
    twin.eval()(x).sum().backward()
    np.testing.assert_allclose(layer.weight_orig.grad.data, twin.weight_orig.grad.data, rtol=1e-12)


def test_reproducible_under_manual_seed():
    manual_seed(7)
    a = nn.spectral_norm(nn.Conv2d(2, 3, 3))
    manual_seed(7)
    b = nn.spectral_norm(nn.Conv2d(2, 3, 3))
    for (k, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(x, y, err_msg=k)


def test_errors():
    with pytest.raises(TypeError, match="supports Linear, Conv2d and ConvTranspose2d"):
        nn.spectral_norm(nn.BatchNorm1d(3))
    layer = nn.spectral_norm(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="already spectrally normalized"):
        nn.spectral_norm(layer)
    with pytest.raises(ValueError, match="n_power_iterations must be a positive int"):
        nn.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
