"""The pix2pix models: the U-Net generator and the PatchGAN discriminator."""
import numpy as np
import pytest

import scratchgan as sg
from scratchgan import functions as F
from scratchgan import nn
from scratchgan import random as sg_random
from scratchgan.gan.patchgan import PatchGANDiscriminator, default_patch_layers
from scratchgan.gan.unet import UNetGenerator, crop_image, pad_image, padded_size
from scratchgan.testing import check_backward

SIZES_DEPTHS_MAPS = [(28, 5, 12), (32, 5, 14), (64, 6, 14), (128, 7, 14), (256, 8, 30)]


@pytest.mark.parametrize("size,depth,patches", SIZES_DEPTHS_MAPS)
def test_shapes_scale_with_the_image(size, depth, patches):
    G = UNetGenerator(size, in_channels=1, out_channels=3, ngf=2)
    D = PatchGANDiscriminator(1, 3, ndf=2, image_size=size)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 1, size, size)).astype(np.float32)
    y = G(x)
    assert G.depth == depth and y.shape == (2, 3, size, size) and y.dtype == np.float32
    assert np.all(np.abs(y.numpy()) <= 1)
    assert D(x, y).shape == (2, 1, patches, patches)


def test_parameter_counts_match_pix2pix():
    """PyTorch's pix2pix reports 54.414 M for unet_256 and 2.769 M for the basic D (ngf=ndf=64)."""
    assert UNetGenerator(256, 3, 3).num_parameters() == 54_414_531
    assert PatchGANDiscriminator(3, 3).num_parameters() == 2_768_705


def test_dropout_sits_on_the_three_decoder_levels_above_the_innermost():
    G = UNetGenerator(256, 3, 3, ngf=1)
    dropped = [i for i, level in enumerate(G.decoder)
               if any(isinstance(m, nn.Dropout) for m in level)]
    assert dropped == [4, 5, 6]
    assert not any(isinstance(m, nn.Dropout) for m in UNetGenerator(32, dropout=0.0).modules())


def test_dropout_is_the_noise_in_training_and_off_in_eval():
    G = UNetGenerator(32, 1, 1, ngf=2)
    x = np.random.default_rng(1).uniform(-1, 1, (4, 1, 32, 32)).astype(np.float32)
    assert not np.array_equal(G(x).numpy(), G(x).numpy())
    G.eval()
    np.testing.assert_array_equal(G(x).numpy(), G(x).numpy())


def test_gradients_reach_every_parameter():
    G = UNetGenerator(28, 1, 1, ngf=2)
    D = PatchGANDiscriminator(1, 1, ndf=2, image_size=28)
    x = np.random.default_rng(2).uniform(-1, 1, (3, 1, 28, 28)).astype(np.float32)
    target = np.random.default_rng(3).uniform(-1, 1, (3, 1, 28, 28)).astype(np.float32)
    y = G(x)
    loss = F.bce_with_logits(D(x, y), 1.0) + 100 * F.l1(y, target)
    loss.backward()
    for name, p in [*G.named_parameters(), *D.named_parameters()]:
        assert p.grad is not None and np.any(p.grad.numpy() != 0), name


def test_pad_and_crop_frame_and_unframe():
    x = sg.Tensor(np.arange(12.0).reshape(1, 1, 3, 4), requires_grad=True)
    framed = pad_image(x, 8, -1.0)
    assert framed.shape == (1, 1, 8, 8) and framed.numpy().sum() == 66 - (64 - 12)
    np.testing.assert_array_equal(crop_image(framed, 3, 4).numpy(), x.numpy())
    assert padded_size(28) == 32 and padded_size(32) == 32 and padded_size(33) == 64
    assert [default_patch_layers(s) for s in (28, 32, 64, 128, 256)] == [1, 1, 2, 3, 3]


def _tiny_pair():
    sg_random.manual_seed(0)
    G = UNetGenerator(6, 1, 2, ngf=2, depth=3, dropout=0.5, dropout_layers=1).to(dtype=np.float64)
    D = PatchGANDiscriminator(1, 2, ndf=2, n_layers=1, image_size=6).to(dtype=np.float64)
    for p in [*G.parameters(), *D.parameters()]:      # away from the default init's tiny values
        p.data = np.random.default_rng(p.size).standard_normal(p.shape) * 0.5
    return G, D


def _pix2pix_loss(G, D, x, target):
    sg_random.manual_seed(5)                          # the same dropout mask every evaluation
    y = G(x)
    return F.bce_with_logits(D(x, y), 1.0) + 10 * F.mse(y, target)


def test_tiny_unet_and_patchgan_gradcheck_in_float64():
    """Through padding (6 -> 8), skips, dropout, batch norm and the PatchGAN: w.r.t. the
    input, and w.r.t. every parameter along one random direction."""
    G, D = _tiny_pair()
    rng = np.random.default_rng(0)
    x, target = rng.uniform(-1, 1, (2, 1, 6, 6)), rng.uniform(-1, 1, (2, 2, 6, 6))
    check_backward(lambda x: _pix2pix_loss(G, D, x, target), [x], atol=1e-6, rtol=1e-4)

    params = [*G.parameters(), *D.parameters()]
    _pix2pix_loss(G, D, sg.Tensor(x), target).backward()
    directions = [rng.standard_normal(p.shape) for p in params]
    analytic = sum(float((p.grad.numpy() * v).sum()) for p, v in zip(params, directions))
    originals = [p.data.copy() for p in params]

    def loss_at(t):
        for p, p0, v in zip(params, originals, directions):
            p.data = p0 + t * v
        with sg.no_grad():
            return _pix2pix_loss(G, D, sg.Tensor(x), target).item()
    eps = 1e-6
    numeric = (loss_at(eps) - loss_at(-eps)) / (2 * eps)
    assert abs(analytic - numeric) <= 1e-6 + 1e-4 * abs(numeric), (analytic, numeric)


def test_bad_sizes_and_inputs_are_named():
    with pytest.raises(ValueError, match="depth 6 does not fit images padded to 32"):
        UNetGenerator(28, depth=6)
    with pytest.raises(ValueError, match=r"inputs must have shape \(N, 3, 32, 32\)"):
        UNetGenerator(32, ngf=1)(np.zeros((1, 3, 28, 28), np.float32))
    D = PatchGANDiscriminator(1, 3, ndf=1)
    with pytest.raises(ValueError, match="of one size expected"):
        D(np.zeros((1, 1, 8, 8), np.float32), np.zeros((1, 3, 8, 6), np.float32))
