"""The training loop: convergence on ring8, exact resume, the NaN guard, the run folder."""
import json

import numpy as np
import pytest

from scratchgan.config import Config
from scratchgan.data import RING8_CENTRES
from scratchgan.gan import checkpoint
from scratchgan.gan.config import TrainConfig
from scratchgan.gan.run import Run
from scratchgan.gan.build import build_trainer
from scratchgan.gan.trainer import TrainingDiverged


def ring_config(tmp_path, **kw):
    base = dict(dataset="ring8", steps=6, batch_size=32, log_every=1, sample_every=1000,
                checkpoint_every=3, out=str(tmp_path / "run"), progress=False, seed=3,
                lr_decay="none")   # a decay's rates depend on `steps`, which these tests change
    base.update(kw)
    return TrainConfig(**base)


def mean_distance_to_nearest_mode(points):
    d = np.linalg.norm(points[:, None, :] - RING8_CENTRES[None], axis=-1)
    return float(d.min(axis=1).mean())


def test_short_ring8_run_moves_samples_towards_the_modes(tmp_path):
    t = build_trainer(ring_config(tmp_path, steps=400, lr_g=1e-3, lr_d=1e-3, ema=0.0))
    before = mean_distance_to_nearest_mode(t.generate(t.task.fixed_z))
    for _ in range(400):
        t.train_step()
    after = mean_distance_to_nearest_mode(t.generate(t.task.fixed_z))
    assert after < 0.5 * before, (before, after)


def losses(records):
    return [(r["step"], r["loss_d"], r["loss_g"]) for r in records]


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp"])
def test_resume_equals_an_uninterrupted_run(tmp_path, loss):
    whole = Run(ring_config(tmp_path / "a", loss=loss)).run()
    full = losses(json.loads(l) for l in (tmp_path / "a" / "run" / "metrics.jsonl").read_text().splitlines())
    Run(ring_config(tmp_path / "b", loss=loss, steps=3)).run()
    resumed = Run(ring_config(tmp_path / "b", loss=loss), resume=True)
    assert resumed.resumed and resumed.trainer.step == 3
    resumed.run()
    again = losses(json.loads(l) for l in (tmp_path / "b" / "run" / "metrics.jsonl").read_text().splitlines())
    assert again == full  # exactly equal, not approximately
    for (name, p), (_, q) in zip(whole.G.named_parameters(), resumed.trainer.G.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)


def test_a_run_folder_with_checkpoints_is_never_overwritten(tmp_path):
    Run(ring_config(tmp_path, steps=3)).run()
    with pytest.raises(FileExistsError, match="pass --resume"):
        Run(ring_config(tmp_path, steps=3))


def test_nan_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    t = build_trainer(ring_config(tmp_path))
    t.train_step()
    t.train_step()
    good = t.save_checkpoint()
    next(iter(t.D.parameters())).data[...] = np.nan
    with pytest.raises(TrainingDiverged, match=r"step 3: loss_d is nan.*ckpt-0000002.npz"):
        t.train_step()
    assert checkpoint.list_checkpoints(t.checkpoints.folder) == [(2, good)]
    assert checkpoint.load(good)["step"] == 2


def test_mismatched_checkpoint_is_refused(tmp_path):
    Run(ring_config(tmp_path, steps=3)).run()
    with pytest.raises(checkpoint.CheckpointError, match="different config.*loss"):
        Run(ring_config(tmp_path, steps=6, loss="hinge"), resume=True)


def test_run_folder_contents(tmp_path):
    Run(ring_config(tmp_path, steps=4, sample_every=2)).run()
    folder = tmp_path / "run"
    for name in ("config.toml", "metrics.jsonl", "final_grid.png", "curves.png", "grad_norms.png",
                 "samples/step-0000002.png", "samples/step-0000004.png"):
        assert (folder / name).stat().st_size > 0, name
    record = json.loads((folder / "metrics.jsonl").read_text().splitlines()[-1])
    assert {"step", "loss_d", "loss_g", "d_real", "d_fake", "images_per_s"} <= set(record)
    assert any(k.startswith("grad_norm/G/") for k in record)
    assert any(k.startswith("grad_norm/D/") for k in record)


@pytest.mark.parametrize("loss,conditional", [("wgan-gp", True), ("hinge", False),
                                               ("lsgan", False), ("wgan", False),
                                               ("minimax", True)])
def test_dcgan_steps_on_digits(tmp_path, loss, conditional):
    t = build_trainer(TrainConfig(loss=loss, conditional=conditional, batch_size=8, ema=0.9,
                            out=str(tmp_path / "run"), progress=False))
    for _ in range(2):
        record = t.train_step()
    assert np.isfinite(record["loss_d"]) and np.isfinite(record["loss_g"])
    assert t.generate(t.task.fixed_z[:4], None if t.task.fixed_labels is None else t.task.fixed_labels[:4]).shape == (4, 1, 28, 28)


def test_numba_and_reference_backends_train_alike(tmp_path):
    import scratchgan_kernels
    if "numba" not in scratchgan_kernels.available_backends():
        pytest.skip("numba is not installed")
    records = {}
    for backend in ("numba", "numpy"):
        t = build_trainer(TrainConfig(kernels=backend, batch_size=8, ema=0.0,
                                      out=str(tmp_path / backend), progress=False))
        records[backend] = [t.train_step() for _ in range(3)]
    for a, b in zip(records["numba"], records["numpy"]):
        for key in ("loss_d", "loss_g", "d_real", "d_fake"):
            assert a[key] == pytest.approx(b[key], rel=2e-3, abs=1e-4), key


def test_the_ema_generator_samples_with_statistics_of_its_own_weights(tmp_path):
    t = build_trainer(ring_config(tmp_path, ema=0.9))
    for _ in range(5):
        t.train_step()
    G = t.sampler()
    assert G is t.ema.average
    rng = np.random.default_rng([t.config.seed, 3, t.step])  # the estimate's noise
    h = [rng.standard_normal((32, t.task.nz)).astype(np.float32) @ G.body[0].weight.data.T
         + G.body[0].bias.data for _ in range(10)]
    np.testing.assert_allclose(G.body[1].running_mean, np.mean([x.mean(0) for x in h], 0),
                               rtol=1e-4, atol=1e-6)
    assert not np.allclose(G.body[1].running_mean, t.G.body[1].running_mean)


def test_sampling_between_steps_leaves_training_unchanged(tmp_path):
    a, b = build_trainer(ring_config(tmp_path / "a")), build_trainer(ring_config(tmp_path / "b"))
    for _ in range(4):
        b.generate(b.task.fixed_z)
        assert a.train_step() == b.train_step()


class RecordingTask:
    """A task that delegates to another and records the kernel backend and TF32 switch in
    force while the trainer computes a loss (any object with the Task methods plugs in)."""

    def __init__(self, task):
        self.task, self.seen = task, set()

    def __getattr__(self, name):
        return getattr(self.task, name)

    def d_loss(self, *args):
        self.seen.add((Config.cpu_kernels, Config.allow_tf32))
        return self.task.d_loss(*args)


def test_the_trainer_applies_its_settings_in_a_scope_and_leaves_config_unchanged(tmp_path):
    before = (Config.cpu_kernels, Config.allow_tf32)
    t = build_trainer(ring_config(tmp_path, kernels="numpy", tf32=not Config.allow_tf32,
                                  steps=2, ema=0.9))
    assert (Config.cpu_kernels, Config.allow_tf32) == before
    t.task = RecordingTask(t.task)
    t.train_step()
    t.generate(t.task.fixed_z[:4])
    t.save_checkpoint()
    assert t.task.seen == {("numpy", not before[1])}
    assert (Config.cpu_kernels, Config.allow_tf32) == before
    Run(ring_config(tmp_path / "run2", kernels="numpy", steps=2)).run()
    assert (Config.cpu_kernels, Config.allow_tf32) == before


def test_the_trainer_module_asks_no_loss_its_name():
    import inspect
    from scratchgan.gan import trainer
    from scratchgan.gan.losses import LOSSES
    source = inspect.getsource(trainer)
    for name in LOSSES:
        assert f'"{name}"' not in source, name
    assert "d_loss_bce" not in source and "config.loss" not in source and "c.loss" not in source


def test_a_run_refuses_a_trainer_built_from_another_config(tmp_path):
    t = build_trainer(ring_config(tmp_path))
    with pytest.raises(ValueError, match="built from another config"):
        Run(ring_config(tmp_path, steps=7), trainer=t)


def test_threads_apply_in_the_scope_and_a_resume_with_another_count_is_exact(tmp_path):
    """DCGAN on digits: 4 steps with 1 kernel thread equal, to the bit, 2 steps with 2
    threads resumed for 2 more with 1 (--threads may change on resume), and the thread
    settings are restored after each trainer call."""
    from scratchgan_kernels import parallel

    def config(out, steps, threads):
        return TrainConfig(batch_size=16, ema=0.0, steps=steps, threads=threads, log_every=1,
                           sample_every=1000, checkpoint_every=2, out=str(out), progress=False,
                           score_n=0)
    workers = parallel.get_workers()
    Run(config(tmp_path / "a", 4, 1)).run()
    Run(config(tmp_path / "b", 2, 2)).run()
    assert parallel.get_workers() == workers
    Run(config(tmp_path / "b", 4, 1), resume=True).run()
    read = [losses(json.loads(line) for line in (tmp_path / name / "metrics.jsonl")
                   .read_text().splitlines()) for name in ("a", "b")]
    assert read[0] == read[1] and len(read[0]) == 4
