"""gan.init.dcgan_init: N(0, 0.02^2) weights, N(1, 0.02^2) batch-norm scales, zero biases,
the raw weight of a spectral-normalised layer."""
import pytest

from scratchgan import nn
from scratchgan.gan.init import dcgan_init
from scratchgan.random import manual_seed


def test_dcgan_init():
    manual_seed(5)
    model = nn.Sequential(nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),
                          nn.Conv2d(32, 64, 4, 2, 1), nn.Linear(200, 100),
                          nn.spectral_norm(nn.Linear(100, 100)), nn.Embedding(500, 30))
    assert model.apply(dcgan_init) is model
    for layer in (model[0], model[3], model[4]):
        assert layer.weight.data.mean() == pytest.approx(0, abs=0.002)
        assert layer.weight.data.std() == pytest.approx(0.02, rel=0.05)
        assert not layer.bias.data.any()
    assert model[5].weight_orig.data.std() == pytest.approx(0.02, rel=0.05)
    assert model[1].weight.data.mean() == pytest.approx(1, abs=0.01)
    assert model[1].weight.data.std() == pytest.approx(0.02, rel=0.3)
    assert not model[1].bias.data.any()
    assert model[6].weight.data.std() == pytest.approx(0.02, rel=0.05)

