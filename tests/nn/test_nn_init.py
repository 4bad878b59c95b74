"""nn.init: statistics and bounds of each scheme, the layers' defaults,
reproducibility under manual_seed."""
import math

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import nn
from scratchgan.nn import init
from scratchgan.random import manual_seed


def param(*shape):
    return nn.Parameter(np.zeros(shape, np.float32))


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="unknown nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_fans():
    assert init.calculate_fan_in_and_fan_out(param(4, 3)) == (3, 4)
    assert init.calculate_fan_in_and_fan_out(param(8, 2, 3, 5)) == (30, 120)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.calculate_fan_in_and_fan_out(param(3))


def test_normal_uniform_zeros_ones_fill_in_place():
    manual_seed(0)
    p = param(200, 100)
    data = p.data
    assert init.normal_(p, 2.0, 0.5) is p and p.data is data
    assert p.data.mean() == pytest.approx(2.0, abs=0.01)
    assert p.data.std() == pytest.approx(0.5, rel=0.02)
    assert p.dtype == np.float32
    init.uniform_(p, -3, -1)
    assert p.data.min() >= -3 and p.data.max() <= -1
    assert p.data.mean() == pytest.approx(-2, abs=0.01)
    init.zeros_(p)
    assert not p.data.any()
    init.ones_(p)
    assert np.all(p.data == 1)
    with pytest.raises(TypeError, match="fills a Tensor or Parameter"):
        init.normal_(np.zeros(3))


def test_xavier_bounds_and_std():
    manual_seed(1)
    p = param(300, 200)
    bound = 2.0 * math.sqrt(6 / 500)
    init.xavier_uniform_(p, gain=2.0)
    assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.99 * bound
    init.xavier_normal_(p)
    assert p.data.std() == pytest.approx(math.sqrt(2 / 500), rel=0.02)


def test_kaiming_bounds_and_std():
    manual_seed(2)
    p = param(64, 32, 3, 3)  # fan_in 288, fan_out 576
    init.kaiming_uniform_(p, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 288)
    assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.99 * bound
    init.kaiming_normal_(p, mode="fan_out", nonlinearity="relu")
    assert p.data.std() == pytest.approx(math.sqrt(2 / 576), rel=0.03)
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_normal_(p, mode="fan_avg")


@pytest.mark.parametrize("make, fan_in", [(lambda: nn.Linear(50, 40), 50),
                                          (lambda: nn.Conv2d(6, 40, 3), 54),
                                          (lambda: nn.ConvTranspose2d(40, 6, 3), 54)])
def test_layer_defaults_are_uniform_with_bound_one_over_sqrt_fan_in(make, fan_in):
    manual_seed(3)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        assert p.dtype == np.float32
        assert np.abs(p.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.9 * bound
    assert layer.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)


def test_embedding_default_is_standard_normal():
    manual_seed(4)
    w = nn.Embedding(100, 100).weight.data
    assert w.mean() == pytest.approx(0, abs=0.03) and w.std() == pytest.approx(1, rel=0.03)


def test_manual_seed_makes_initialisation_reproducible():
    def build():
        return nn.Sequential(nn.Linear(3, 4), nn.Conv2d(1, 2, 3), nn.Embedding(3, 2))

    manual_seed(42)
    a = build().state_dict()
    manual_seed(42)
    b = build().state_dict()
    manual_seed(43)
    c = build().state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert not np.array_equal(a["0.weight"], c["0.weight"])


def test_init_works_on_plain_tensors():
    t = sg.Tensor(np.zeros((2, 3)))
    init.ones_(t)
    assert t.dtype == np.float64 and np.all(t.data == 1)
