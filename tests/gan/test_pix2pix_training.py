"""pix2pix as the trainer's second task: steps with every loss, L1 falling, exact resume,
EMA sampling that leaves training alone, the run folder, and the errors."""
import json

import numpy as np
import pytest

from scratchgan.data import PairedDataset, load_paired
from scratchgan.gan.build import build_trainer
from scratchgan.gan.config import ConfigError, TrainConfig
from scratchgan.gan.run import Run
from scratchgan.gan.tasks import TranslationTask


@pytest.fixture(scope="module")
def pairs():
    return load_paired("edges2digits", "train", seed=0, n=16)


def p2p_config(tmp_path, **kw):
    base = dict(task="pix2pix", dataset="edges2digits", ngf=4, ndf=4, batch_size=4, steps=4,
                log_every=1, sample_every=1000, checkpoint_every=2, ema=0.0, seed=5,
                lr_g=2e-4, lr_d=2e-4, lr_decay="none",   # pix2pix's recipe
                out=str(tmp_path / "run"), progress=False, score_n=0)
    base.update(kw)
    return TrainConfig(**base)


def metrics(folder):
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp", "wgan", "lsgan", "hinge"])
def test_steps_with_every_loss_are_finite(tmp_path, pairs, loss):
    t = build_trainer(p2p_config(tmp_path, loss=loss, ema=0.9), dataset=pairs)
    assert isinstance(t.task, TranslationTask)
    has_bn = any(type(m).__name__ == "BatchNorm2d" for m in t.D.modules())
    assert has_bn == (loss != "wgan-gp")            # the loss object says, the builder obeys
    for _ in range(2):
        record = t.train_step()
    assert all(np.isfinite(record[k]) for k in ("loss_d", "loss_g", "l1", "d_real", "d_fake"))
    assert t.generate(t.task.fixed_inputs[:3]).shape == (3, 1, 28, 28)


def test_l1_falls_on_a_tiny_set(tmp_path, pairs):
    t = build_trainer(p2p_config(tmp_path, ngf=8, ndf=8, lr_g=2e-3, lr_d=2e-4), dataset=pairs)
    l1 = [t.train_step()["l1"] for _ in range(40)]
    assert np.mean(l1[-5:]) < 0.6 * np.mean(l1[:5]), l1


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp"])
def test_resume_equals_an_uninterrupted_run(tmp_path, pairs, loss):
    kw = dict(loss=loss, ema=0.9, n_critic=2, lr_d=4e-4)     # TTUR, n_critic, EMA
    a = Run(p2p_config(tmp_path / "a", **kw), trainer=build_trainer(
        p2p_config(tmp_path / "a", **kw), dataset=pairs)).run()
    Run(p2p_config(tmp_path / "b", steps=2, **kw), trainer=build_trainer(
        p2p_config(tmp_path / "b", steps=2, **kw), dataset=pairs)).run()
    resumed = Run(p2p_config(tmp_path / "b", **kw), resume=True, trainer=build_trainer(
        p2p_config(tmp_path / "b", **kw), dataset=pairs))
    assert resumed.resumed and resumed.trainer.step == 2
    b = resumed.run()
    keys = ("step", "loss_d", "loss_g", "l1", "d_real", "d_fake")
    assert [[r[k] for k in keys] for r in metrics(tmp_path / "b" / "run")] == \
           [[r[k] for k in keys] for r in metrics(tmp_path / "a" / "run")]   # to the bit
    for (name, p), (_, q) in zip(a.G.named_parameters(), b.G.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    np.testing.assert_array_equal(a.generate(a.task.fixed_inputs), b.generate(b.task.fixed_inputs))


def test_sampling_the_ema_generator_leaves_training_unchanged(tmp_path, pairs):
    """The EMA's statistics run G's dropout, which draws from the global generator."""
    a = build_trainer(p2p_config(tmp_path / "a", ema=0.9), dataset=pairs)
    b = build_trainer(p2p_config(tmp_path / "b", ema=0.9), dataset=pairs)
    for _ in range(3):
        b.generate(b.task.fixed_inputs)
        b.state_dict()
        assert a.train_step() == b.train_step()


def test_the_run_folder_shows_input_output_target_triplets(tmp_path, pairs):
    Run(p2p_config(tmp_path, steps=2, sample_every=1, eval_every=2, eval_n=12),
        trainer=build_trainer(p2p_config(tmp_path, steps=2, sample_every=1, eval_every=2,
                                         eval_n=12), dataset=pairs)).run()
    folder = tmp_path / "run"
    for name in ("final_grid.png", "samples/step-0000001.png", "samples/step-0000002.png",
                 "curves.png", "checkpoints/ckpt-0000002.npz"):
        assert (folder / name).stat().st_size > 0, name
    result = json.loads((folder / "eval.jsonl").read_text())
    assert result["kind"] == "translation" and result["n"] == 12 and result["step"] == 2
    assert 0 <= result["l1"] <= 2 and result["classifier"] == "mnist"
    assert 0 <= result["accuracy"] <= 1 and result["ceiling"] >= 0.75


def test_the_fixed_pairs_are_held_out(tmp_path, pairs):
    t = build_trainer(p2p_config(tmp_path), dataset=pairs)
    held_out = load_paired("edges2digits", "test", seed=5, n=20)
    np.testing.assert_array_equal(t.task.fixed_targets, held_out.targets)
    assert len(t.task.fixed_inputs) == 20


def test_rows_of_inputs_outputs_and_targets():
    from scratchgan.gan.tasks.translation import triplet_rows
    x, y = np.zeros((3, 1, 4, 4), np.float32), np.ones((3, 3, 4, 4), np.float32)
    rows = triplet_rows(x, y * 0.5, y, nrow=2)
    assert rows.shape == (12, 3, 4, 4)                 # 2 groups x 3 rows x 2 columns
    assert np.all(rows[0] == 0) and np.all(rows[2] == 0.5) and np.all(rows[4] == 1)
    assert np.all(rows[7] == -1)                       # the short group's blank tile


@pytest.mark.parametrize("size,channels", [(32, 3), (64, 1)])
def test_models_are_sized_from_the_pairs(tmp_path, size, channels):
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (8, channels, size, size)).astype(np.float32)
    data = PairedDataset(images, images[:, :1], None, 0, "mine")
    t = build_trainer(p2p_config(tmp_path, ngf=2, ndf=2, batch_size=2), dataset=data)
    assert np.isfinite(t.train_step()["loss_g"])
    assert t.generate(images[:2]).shape == (2, 1, size, size)
    assert t.metadata["input_shape"] == [channels, size, size]


def test_errors_name_the_task_and_the_dataset(tmp_path, pairs):
    with pytest.raises(ValueError, match="'edges2digits' holds .input, target. pairs: train it "
                                         "with --task pix2pix"):
        build_trainer(TrainConfig(dataset="edges2digits", out=str(tmp_path / "x")))
    with pytest.raises(ValueError, match="pix2pix trains on a paired dataset.*'ring8' holds no pairs"):
        build_trainer(p2p_config(tmp_path, dataset="ring8"))
    with pytest.raises(ValueError, match="PairedDataset trains with task 'pix2pix'"):
        build_trainer(TrainConfig(out=str(tmp_path / "x")), dataset=pairs)
    with pytest.raises(ConfigError, match="does not take conditional = True"):
        p2p_config(tmp_path, conditional=True)
    with pytest.raises(ConfigError, match="'task' must be one of gan, pix2pix"):
        p2p_config(tmp_path, task="cyclegan")
    rect = np.zeros((4, 1, 8, 16), np.float32)
    with pytest.raises(ValueError, match="square"):
        build_trainer(p2p_config(tmp_path), dataset=PairedDataset(rect, rect, None, 0, "r"))


def test_a_gan_checkpoint_does_not_resume_as_pix2pix(tmp_path, pairs):
    from scratchgan.gan.checkpoint import CheckpointError
    Run(TrainConfig(dataset="ring8", steps=2, batch_size=8, out=str(tmp_path / "run"),
                    progress=False, seed=5)).run()
    with pytest.raises(CheckpointError, match="task: 'gan' there, 'pix2pix' here"):
        Run(p2p_config(tmp_path, dataset="edges2digits"), resume=True,
            trainer=build_trainer(p2p_config(tmp_path), dataset=pairs))


def test_a_folder_of_side_by_side_pairs_trains_and_scores(tmp_path):
    """paired:DIR in pix2pix's layout (A and B side by side), RGB 8x8 halves, a val/ smaller
    than the grids and the evaluation ask for."""
    import matplotlib.image
    rng = np.random.default_rng(0)
    for split, count in (("train", 4), ("val", 2)):
        (tmp_path / "pairs" / split).mkdir(parents=True)
        for i in range(count):
            matplotlib.image.imsave(tmp_path / "pairs" / split / f"{i}.png",
                                    rng.uniform(0, 1, (8, 16, 3)))
    c = p2p_config(tmp_path, dataset=f"paired:{tmp_path / 'pairs'}", direction="BtoA",
                   batch_size=2, ngf=2, ndf=2, steps=2, eval_every=2, eval_n=10)
    t = Run(c).run()
    assert t.metadata["input_shape"] == [3, 8, 8] and len(t.task.fixed_inputs) == 2
    result = json.loads((tmp_path / "run" / "eval.jsonl").read_text())
    assert result["n"] == 2 and result["accuracy"] is None and np.isfinite(result["l1"])
