"""lr_decay = "linear": full rate for the first half of the steps, then linearly to 0."""
import json

import pytest

from scratchgan.gan.config import ConfigError, TrainConfig
from scratchgan.gan.run import Run
from scratchgan.gan.build import build_trainer


def config(tmp_path, **kw):
    base = dict(dataset="ring8", steps=10, batch_size=16, log_every=1, sample_every=1000,
                checkpoint_every=4, out=str(tmp_path / "run"), progress=False, seed=1,
                lr_g=1e-3, lr_d=3e-3, lr_decay="linear")
    base.update(kw)
    return TrainConfig(**base)


def test_the_rates_hold_for_half_the_steps_then_fall_linearly_to_zero(tmp_path):
    t = build_trainer(config(tmp_path))
    seen = []
    for _ in range(10):
        seen.append((t.opt_g.param_groups[0]["lr"], t.opt_d.param_groups[0]["lr"]))
        t.train_step()
    factors = [1, 1, 1, 1, 1, 1.0, 0.8, 0.6, 0.4, 0.2]  # the rate used at steps 0..9
    assert [g for g, _ in seen] == pytest.approx([1e-3 * f for f in factors])
    assert [d for _, d in seen] == pytest.approx([3e-3 * f for f in factors])
    assert t.opt_g.param_groups[0]["lr"] == 0.0           # after the last step T: 0


def test_no_decay_leaves_the_rates_alone(tmp_path):
    t = build_trainer(config(tmp_path, lr_decay="none"))
    for _ in range(10):
        t.train_step()
    assert t.opt_g.param_groups[0]["lr"] == 1e-3 and t.opt_d.param_groups[0]["lr"] == 3e-3


def test_a_resumed_decaying_run_equals_an_uninterrupted_one(tmp_path):
    def losses(folder):
        return [(r["step"], r["loss_d"], r["loss_g"]) for r in
                map(json.loads, (folder / "run" / "metrics.jsonl").read_text().splitlines())]
    Run(config(tmp_path / "a")).run()
    interrupted = Run(config(tmp_path / "c"))
    for _ in range(6):
        interrupted.trainer.train_step()
    interrupted.trainer.save_checkpoint()
    interrupted.close()   # the crash: the process ends, and the OS drops the folder's lock
    resumed = Run(config(tmp_path / "c"), resume=True)
    assert resumed.trainer.step == 6
    resumed.run()
    assert losses(tmp_path / "c")[-4:] == losses(tmp_path / "a")[-4:]


def test_an_unknown_schedule_is_named(tmp_path):
    with pytest.raises(ConfigError, match="lr_decay"):
        config(tmp_path, lr_decay="cosine")
