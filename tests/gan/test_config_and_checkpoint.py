import numpy as np
import pytest

from scratchgan.gan import checkpoint
from scratchgan.gan.config import ConfigError, TrainConfig, make_config


def test_defaults_are_the_main_jobs_recipe():
    """QUALITY.md, "The main job": the half-width DCGAN at Adam 2e-3, decayed to 0 (the
    README's main command adds --conditional)."""
    c = TrainConfig()
    assert (c.dataset, c.loss, c.batch_size, c.lr_g, c.lr_d, c.beta1, c.lr_decay) == \
        ("digits", "nonsaturating", 64, 2e-3, 2e-3, 0.5, "linear")
    assert (c.ngf, c.ndf, c.steps, c.ema, c.pack, c.conditional) == (32, 32, 1700, 0.999, 1,
                                                                   False)


def test_toml_then_overrides(tmp_path):
    f = tmp_path / "run.toml"
    f.write_text('loss = "hinge"\nbatch_size = 32\nlr_d = 4e-4\n')
    c = make_config(f, batch_size=16, steps=None)
    assert (c.loss, c.batch_size, c.lr_d, c.steps) == ("hinge", 16, 4e-4, 1700)


def test_toml_round_trip(tmp_path):
    c = TrainConfig(loss="wgan-gp", n_critic=5, conditional=True, out="runs/x")
    f = tmp_path / "c.toml"
    f.write_text(c.to_toml())
    assert make_config(f) == c


def test_unknown_keys_are_named(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("batchsize = 3\n")
    with pytest.raises(ConfigError, match=r"unknown config key 'batchsize' in .*bad.toml; known keys: dataset"):
        make_config(f)


@pytest.mark.parametrize("key,value,match", [
    ("batch_size", 0, "'batch_size' must be >= 2"),
    ("batch_size", "64", "'batch_size' must be a int"),
    ("loss", "wasserstein", "'loss' must be one of minimax, nonsaturating"),
    ("ema", -0.1, "'ema' must be >= 0"),
    ("conditional", 1, "'conditional' must be a bool"),
])
def test_bad_values_are_named(key, value, match):
    with pytest.raises(ConfigError, match=match):
        make_config(**{key: value})


def test_invalid_toml_and_missing_file(tmp_path):
    f = tmp_path / "broken.toml"
    f.write_text("loss = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        make_config(f)
    with pytest.raises(ConfigError, match="does not exist"):
        make_config(tmp_path / "nope.toml")


def test_checkpoint_round_trip_without_pickle(tmp_path):
    state = {"step": 3, "G": {"fc.weight": np.arange(6.0, dtype=np.float32).reshape(2, 3)},
             "opt": {"state": {"0": {"step": 2, "m": np.ones(3)}}, "groups": [{"lr": 1e-3}]},
             "rng": np.random.default_rng(5).bit_generator.state}
    path = checkpoint.save(tmp_path / "c.npz", state)
    back = checkpoint.load(path)
    assert back["step"] == 3 and back["opt"]["groups"][0]["lr"] == 1e-3
    np.testing.assert_array_equal(back["G"]["fc.weight"], state["G"]["fc.weight"])
    assert back["G"]["fc.weight"].dtype == np.float32
    assert back["rng"] == state["rng"]
    with np.load(path, allow_pickle=False) as npz:  # loads with pickle disabled
        assert "__meta__" in npz.files
    assert not list(tmp_path.glob("*.tmp"))


def test_corrupted_and_foreign_checkpoints_get_clear_errors(tmp_path):
    good = checkpoint.save(tmp_path / "good.npz", {"a": np.ones(100)})
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:150])
    with pytest.raises(checkpoint.CheckpointError, match="corrupted or truncated"):
        checkpoint.load(truncated)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.ones(3))
    with pytest.raises(checkpoint.CheckpointError, match="not a scratchgan checkpoint"):
        checkpoint.load(foreign)
    with pytest.raises(checkpoint.CheckpointError, match="does not exist"):
        checkpoint.load(tmp_path / "missing.npz")


def test_prune_keeps_the_newest(tmp_path):
    for step in (5, 10, 15, 20):
        checkpoint.save(checkpoint.checkpoint_path(tmp_path, step), {"step": step})
    checkpoint.prune(tmp_path, 2)
    assert [s for s, _ in checkpoint.list_checkpoints(tmp_path)] == [15, 20]
