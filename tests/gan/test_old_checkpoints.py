"""Checkpoints written before the trainer took built objects (issue 11) still load, resume
to the losses the old trainer computed, and resume exactly; a trainer built from objects
here (no patching) trains to the old losses from step 0.

tests/gan/data/<case>-step2.npz is the step-2 checkpoint of a 4-step ring8 run of the
trainer of commit 6df725f, with small MLPs (hidden 32, patched into that trainer to keep
the files small); <case>.json holds that run's config and its metrics of steps 1-4. The
new trainer reproduced them bit for bit on the machine that made them; the comparisons
with the stored numbers allow float32 rounding, since a BLAS thread count or a kernel
change moves the last bits of a matrix product. Exactness is checked within one process."""
import json
import shutil
from pathlib import Path

import pytest

from scratchgan import random as sg_random
from scratchgan.data import DataLoader, load_dataset
from scratchgan.gan import checkpoint
from scratchgan.gan.build import linear_decay, loss_from_config, optimizer_from_config
from scratchgan.gan.config import TrainConfig
from scratchgan.gan.ema import EMA
from scratchgan.gan.guard import DivergenceGuard
from scratchgan.gan.models import MLPDiscriminator, MLPGenerator
from scratchgan.gan.run import Run
from scratchgan.gan.tasks import GANTask
from scratchgan.gan.trainer import Trainer

DATA = Path(__file__).parent / "data"
CASES = ["ring8-nonsaturating", "ring8-wgan-gp", "ring8-wgan"]
KEYS = ("step", "loss_d", "loss_g", "d_real", "d_fake")


def stored(case, out):
    saved = json.loads((DATA / f"{case}.json").read_text())
    return TrainConfig(**saved["config"], out=str(out)), saved["records"]


def small_trainer(c):
    """The old run's trainer, built from objects: small MLPs in place of the built-in ones."""
    sg_random.manual_seed(c.seed)
    dataset = load_dataset(c.dataset, seed=c.seed)
    G, D = MLPGenerator(2, hidden=32, out_dim=2), MLPDiscriminator(2, hidden=32)
    task = GANTask(dataset, G.nz, 0, c.batch_size, "cpu", c.seed)
    opt_g, opt_d = optimizer_from_config(c, G, c.lr_g), optimizer_from_config(c, D, c.lr_d)
    checkpoints = checkpoint.Checkpoints(Path(c.out) / "checkpoints", c.keep_checkpoints)
    return Trainer(
        data=DataLoader(dataset, c.batch_size, seed=c.seed), G=G, D=D, opt_g=opt_g,
        opt_d=opt_d, loss=loss_from_config(c), task=task, config=c, checkpoints=checkpoints,
        guard=DivergenceGuard(defer=False, last_good=checkpoints.describe_latest),
        ema=(EMA(G, MLPGenerator(2, hidden=32, out_dim=2), c.ema, task.draw_inputs, c.seed,
                 c.batch_size) if c.ema else None),
        schedulers=([linear_decay(opt_g, c.steps), linear_decay(opt_d, c.steps)]
                    if c.lr_decay == "linear" else []),
        metadata={"model": "mlp", "data_shape": [2], "num_classes": 0})


def assert_close(got, want):
    assert [r["step"] for r in got] == [r["step"] for r in want]
    for g, w in zip(got, want):
        for k in KEYS[1:]:
            assert g[k] == pytest.approx(w[k], rel=1e-5, abs=1e-6), (g["step"], k)


def resumed_from_the_old_checkpoint(case, out):
    config, records = stored(case, out)
    (out / "checkpoints").mkdir(parents=True)
    shutil.copy(DATA / f"{case}-step2.npz", out / "checkpoints" / "ckpt-0000002.npz")
    run = Run(config, resume=True, trainer=small_trainer(config))
    assert run.resumed and run.trainer.step == 2
    return run, records


@pytest.mark.parametrize("case", CASES)
def test_a_fresh_run_computes_the_old_losses(tmp_path, case):
    config, records = stored(case, tmp_path / "run")
    t = small_trainer(config)
    assert_close([{"step": step, **t.train_step()} for step in range(1, 5)], records)


@pytest.mark.parametrize("case", CASES)
def test_an_old_checkpoint_resumes_to_the_old_losses(tmp_path, case):
    run, records = resumed_from_the_old_checkpoint(case, tmp_path / "run")
    run.run()
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert_close([json.loads(line) for line in lines], records[2:])
    state = checkpoint.load(tmp_path / "run" / "checkpoints" / "ckpt-0000004.npz")
    assert state["step"] == 4 and state["model"] == "mlp"
    assert ("G_ema" in state) == bool(run.trainer.config.ema)


@pytest.mark.parametrize("case", CASES)
def test_a_run_resumed_from_an_old_checkpoint_resumes_exactly_again(tmp_path, case):
    whole, _ = resumed_from_the_old_checkpoint(case, tmp_path / "a")
    want = [whole.trainer.train_step() for _ in range(2)]
    first, _ = resumed_from_the_old_checkpoint(case, tmp_path / "b")
    got = [first.trainer.train_step()]
    first.trainer.save_checkpoint()                 # step 3, in the current format
    first.close()                                   # as a process that ends drops the lock
    config, _ = stored(case, tmp_path / "b")
    again = Run(config, resume=True, trainer=small_trainer(config))
    assert again.trainer.step == 3
    got.append(again.trainer.train_step())
    assert got == want                              # to the bit
