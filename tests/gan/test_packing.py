"""PacGAN's tools: packing (``pack``), maxout units in the MLP D, the DCGAN widths, and
the quality recipes as ``scratchgan train --config`` files."""
from pathlib import Path

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import nn
from scratchgan.gan.build import build_trainer
from scratchgan.gan.config import ConfigError, make_config
from scratchgan.gan.losses import gradient_penalty
from scratchgan.gan.models import MLPDiscriminator, build_models
from scratchgan.gan.sample import load_generator
from scratchgan.gan.tasks.generation import pack_samples

QUALITY = Path(__file__).resolve().parents[2] / "benchmarks" / "quality"


def n_params(m):
    return sum(p.size for p in m.parameters())


def test_a_pack_is_consecutive_samples_side_by_side_along_axis_1():
    x = np.arange(4 * 1 * 2 * 2).reshape(4, 1, 2, 2)
    packed = pack_samples(x, 2)
    assert packed.shape == (2, 2, 2, 2)
    np.testing.assert_array_equal(packed[1, 0], x[2, 0])
    np.testing.assert_array_equal(packed[1, 1], x[3, 0])
    points = np.arange(12.0).reshape(6, 2)
    np.testing.assert_array_equal(pack_samples(points, 3), [[0, 1, 2, 3, 4, 5],
                                                            [6, 7, 8, 9, 10, 11]])
    t = sg.Tensor(points, requires_grad=True)
    pack_samples(t, 3).sum().backward()         # a Tensor stays in the graph
    np.testing.assert_array_equal(t.grad.data, np.ones((6, 2)))


@pytest.mark.parametrize("dataset,shape", [("ring8", (6,)), ("digits", (3, 28, 28))])
def test_a_packed_d_scores_batch_over_pack_inputs_of_pack_times_the_channels(
        tmp_path, dataset, shape):
    c = make_config(dataset=dataset, pack=3, batch_size=12, out=str(tmp_path), progress=False,
                    ngf=8, ndf=8)
    t = build_trainer(c)
    seen = []
    t.D.register_forward_hook(lambda module, args, out: seen.append((args[0].shape, out.shape)))
    record = t.train_step()
    assert np.isfinite(record["loss_d"]) and np.isfinite(record["loss_g"])
    assert {s for s in seen} == {((4,) + shape, (4, 1))}
    assert t.G(np.zeros((5, t.G.nz), np.float32)).shape[0] == 5     # G is unchanged


def test_the_gradient_penalty_of_a_packed_critic_takes_the_norm_per_pack():
    """D(pack) = <w, pack> for a pack of two 2-d points: the gradient w.r.t. a pack is w,
    so GP = (|w| - 1)^2. Norms per sample would give (|w[:2]| - 1)^2 and (|w[2:]| - 1)^2."""
    w = np.array([[0.3], [0.4], [1.2], [-0.5]])          # |w| = sqrt(1.94)
    critic = lambda x: sg.functions.matmul(x, sg.Tensor(w))     # noqa: E731
    rng = np.random.default_rng(0)
    real, fake = (pack_samples(rng.standard_normal((6, 2)), 2) for _ in range(2))
    gp = gradient_penalty(critic, real, fake, rng)
    assert gp.item() == pytest.approx((np.sqrt(1.94) - 1) ** 2, rel=1e-9)


def test_packing_with_wgan_gp_trains_through_the_double_backward(tmp_path):
    c = make_config(dataset="grid25", pack=2, loss="wgan-gp", n_critic=2, batch_size=10,
                    out=str(tmp_path), progress=False)
    t = build_trainer(c)
    weights = [p for p in t.D.parameters() if p.ndim == 2]    # (the last bias cancels in WGAN)
    before = [p.data.copy() for p in weights]
    record = t.train_step()
    assert np.isfinite(record["loss_d"])
    assert all(not np.array_equal(b, p.data) for b, p in zip(before, weights))


@pytest.mark.parametrize("overrides,message", [
    ({"pack": 3, "batch_size": 64}, "'batch_size' \\(64\\) must be a multiple of 'pack' \\(3\\)"),
    ({"pack": 2, "conditional": True}, "packing .* does not combine with conditional"),
    ({"task": "pix2pix", "dataset": "edges2digits", "pack": 2}, "does not take pack = 2"),
    ({"maxout": 2, "ngf": 32, "task": "pix2pix", "dataset": "edges2digits"},
     "does not take maxout = 2"),
])
def test_bad_packing_and_maxout_settings_are_named(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_config(**overrides)


def test_dcgan_refuses_maxout_units():
    with pytest.raises(ValueError, match="maxout units are the MLP discriminator's"):
        build_models("dcgan", (1, 28, 28), maxout=2)


def test_maxout_d_has_pieces_times_the_weights_and_takes_the_max_of_each_group():
    D = MLPDiscriminator(4, hidden=3, depth=1, maxout=2)
    # Maxout(4 -> 3 units x 2 pieces) + Linear(3 -> 1)
    assert n_params(D) == (4 * 6 + 6) + (3 + 1)
    unit = D.body[0]
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    pre = x @ unit.linear.weight.data.T + unit.linear.bias.data
    np.testing.assert_allclose(unit(x).data, np.maximum(pre[:, 0::2], pre[:, 1::2]), rtol=1e-6)
    with pytest.raises(ValueError, match="Maxout: pieces must be a positive int"):
        nn.Maxout(2, 2, 0)


def test_dcgan_widths_are_config_keys_and_a_checkpoint_keeps_them(tmp_path):
    c = make_config(dataset="digits", ngf=16, ndf=8, steps=1, batch_size=4, out=str(tmp_path),
                    progress=False)
    t = build_trainer(c)
    G, D = build_models("dcgan", (1, 28, 28), ngf=16, ndf=8)
    assert (n_params(t.G), n_params(t.D)) == (n_params(G), n_params(D))
    t.train_step()
    path = t.save_checkpoint()
    G_loaded, _ = load_generator(path)
    assert n_params(G_loaded) == n_params(G)


RECIPES = sorted(QUALITY.glob("*.toml"))


def test_there_are_quality_recipes():
    assert len(RECIPES) >= 4


@pytest.mark.parametrize("recipe", RECIPES, ids=[p.stem for p in RECIPES])
def test_every_quality_recipe_is_a_valid_train_config(recipe):
    c = make_config(recipe)
    assert c.steps >= 1000 and c.eval_every > 0


def _load_script(name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, QUALITY / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_mixture_benchmark_scores_what_train_with_the_recipe_writes(tmp_path):
    """mixtures.py's row for (recipe, seed) is the last eval.jsonl line of
    ``scratchgan train --config recipe --seed seed``: one command reproduces a row."""
    from scratchgan import cli
    import json
    recipe = tmp_path / "ring8-packed.toml"
    text = (QUALITY / "ring8-nonsaturating.toml").read_text()
    recipe.write_text(text.replace("eval_every = 10000", "eval_every = 30") + "pack = 2\n")
    mixtures = _load_script("mixtures")
    row = mixtures.run_one((str(recipe), 3, 30, dict([mixtures.parse_setting("maxout=2")])))
    assert cli.main(["train", "--config", str(recipe), "--seed", "3", "--steps", "30",
                     "--maxout", "2", "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    lines = (tmp_path / "run" / "eval.jsonl").read_text().splitlines()
    written = json.loads(lines[-1])
    assert written["step"] == 30
    assert (row["modes"], row["high_quality"], row["reverse_kl"]) == (
        written["modes_captured"], written["high_quality_fraction"], written["reverse_kl"])
    assert row["command"] == f"scratchgan train --config {recipe} --seed 3 --steps 30 --maxout 2"
    assert mixtures.parse_setting('loss="hinge"') == mixtures.parse_setting("loss=hinge") == (
        "loss", "hinge")


def test_minibatch_std_adds_one_feature_to_d_and_refuses_a_gradient_penalty(tmp_path):
    G, D = build_models("dcgan", (1, 28, 28), ngf=8, ndf=8, minibatch_std=True)
    _, plain = build_models("dcgan", (1, 28, 28), ngf=8, ndf=8)
    assert n_params(D) - n_params(plain) == 7 * 7       # fc sees one more 7x7 channel
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32)
    assert D(x).shape == (4, 1)
    _, mlp = build_models("mlp", (2,), minibatch_std=True, pack=2)
    assert mlp.body[-1].in_features == 201
    with pytest.raises(ValueError, match="config key 'minibatch_std': loss 'wgan-gp' has a "
                                         "gradient penalty"):
        build_trainer(make_config(dataset="ring8", loss="wgan-gp", minibatch_std=True,
                                  out=str(tmp_path), progress=False))
