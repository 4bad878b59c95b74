import numpy as np
import pytest

from scratchgan.gan.models import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator,
                                   MLPGenerator, build_models)

# The PyTorch reference (shared/reference/dcgan_torch.py), counted by hand:
# G: fc 100*12544 + bn0 2*12544 + ct1 256*128*16 + bn1 2*128 + ct2 128*64*16 + bn2 2*64 + conv 64*9+1
# D: c1 1*64*16+64 + c2 64*128*16 + bn2 2*128 + fc 6272+1
REFERENCE_G_PARAMS = 1_254_400 + 25_088 + 524_288 + 256 + 131_072 + 128 + 577
REFERENCE_D_PARAMS = 1_088 + 131_072 + 256 + 6_273


def n_params(m):
    return sum(p.size for p in m.parameters())


def test_dcgan28_matches_the_reference_architecture():
    G, D = DCGANGenerator(), DCGANDiscriminator()
    assert n_params(G) == REFERENCE_G_PARAMS
    assert n_params(D) == REFERENCE_D_PARAMS
    z = np.random.default_rng(0).standard_normal((3, 100)).astype(np.float32)
    x = G(z)
    assert x.shape == (3, 1, 28, 28) and x.dtype == np.float32
    assert np.all(np.abs(x.data) <= 1)
    assert D(x).shape == (3, 1)


def test_dcgan32_rgb_and_critic_without_batchnorm():
    G = DCGANGenerator(32, 3)
    D = DCGANDiscriminator(32, 3, batchnorm=False)
    x = G(np.zeros((2, 100), np.float32))
    assert x.shape == (2, 3, 32, 32)
    assert D(x).shape == (2, 1)
    assert not any("BatchNorm" in type(m).__name__ for m in D.modules())


@pytest.mark.parametrize("size", [28, 32])
def test_resize_convolution_generator_upsamples_without_transposed_convs(size):
    from scratchgan import nn
    G, D = build_models("dcgan", (1, size, size), ngf=8, ndf=8, upsample="resize",
                        batchnorm_in_d=False)
    kinds = [type(m) for m in G.modules()]
    assert nn.ConvTranspose2d not in kinds and kinds.count(nn.Upsample) == (2 if size == 28 else 3)
    x = G(np.random.default_rng(0).standard_normal((2, 100)).astype(np.float32))
    assert x.shape == (2, 1, size, size)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    with pytest.raises(ValueError, match="upsampling must be one of transposed, resize"):
        DCGANGenerator(upsample="bilinear")


@pytest.mark.parametrize("g_cond", ["embedding", "onehot"])
@pytest.mark.parametrize("d_cond", ["projection", "concat"])
def test_conditional_dcgan(g_cond, d_cond):
    G, D = build_models("dcgan", (1, 28, 28), 10, g_conditioning=g_cond, d_conditioning=d_cond)
    y = np.array([0, 3, 9])
    x = G(np.zeros((3, 100), np.float32), y)
    assert D(x, y).shape == (3, 1)
    with pytest.raises(ValueError, match="conditional: pass labels"):
        G(np.zeros((3, 100), np.float32))
    with pytest.raises(ValueError, match=r"integers in \[0, 10\)"):
        D(x, np.array([0, 3, 10]))


def test_projection_head_makes_the_logit_depend_on_the_label():
    D = DCGANDiscriminator(num_classes=10, conditioning="projection")
    x = np.random.default_rng(1).standard_normal((2, 1, 28, 28)).astype(np.float32)
    a, b = D(x, np.array([1, 1])).data, D(x, np.array([2, 2])).data
    assert not np.allclose(a, b)


def test_mlp_pacgan_sizes():
    G, D = MLPGenerator(), MLPDiscriminator()
    hidden = [m for m in G.modules() if type(m).__name__ == "Linear"]
    assert [m.weight.shape for m in hidden] == [(400, 2), (400, 400), (400, 400), (400, 400), (2, 400)]
    assert G(np.zeros((5, 2), np.float32)).shape == (5, 2)
    assert D(np.zeros((5, 2), np.float32)).shape == (5, 1)


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"z must have shape \(N, 100\)"):
        DCGANGenerator()(np.zeros((2, 7), np.float32))
    with pytest.raises(ValueError, match=r"images must have shape \(N, 1, 28, 28\)"):
        DCGANDiscriminator()(np.zeros((2, 1, 32, 32), np.float32))
    with pytest.raises(ValueError, match="square images"):
        build_models("dcgan", (2,))
    with pytest.raises(ValueError, match="unknown model 'vae'"):
        build_models("vae", (2,))


def test_a_checkpoint_rebuilds_a_resize_generator_and_resumes_only_with_its_architecture(tmp_path):
    from scratchgan.gan import checkpoint
    from scratchgan.gan.build import build_trainer
    from scratchgan.gan.config import make_config
    from scratchgan.gan.sample import load_generator
    c = make_config(dataset="digits", ngf=8, ndf=8, steps=1, batch_size=4, progress=False,
                    g_upsample="resize", d_batchnorm=False, out=str(tmp_path))
    t = build_trainer(c)
    t.train_step()
    path = t.save_checkpoint()
    G, _ = load_generator(path)
    z = np.random.default_rng(1).standard_normal((3, 100)).astype(np.float32)
    np.testing.assert_allclose(G(z).data, t.generate(z, None), rtol=1e-6, atol=1e-6)
    state = checkpoint.load(path)
    other = build_trainer(make_config(dataset="digits", ngf=8, ndf=8, steps=2, batch_size=4,
                                      progress=False, out=str(tmp_path / "b")))
    with pytest.raises(checkpoint.CheckpointError, match="d_batchnorm: False there, True here"):
        other.load_state_dict(state)
