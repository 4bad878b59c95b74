"""Gradient statistics at log steps: update size over weight size per layer, D's input
gradient at real and generated points (scratchgan.gan.gradstats), in the trainer's
records, metrics.jsonl and grad_norms.png; they change nothing the run computes."""
import json

import numpy as np
import pytest

from scratchgan import nn
from scratchgan.gan import gradstats
from scratchgan.gan.build import build_trainer
from scratchgan.gan.config import TrainConfig
from scratchgan.gan.run import Run


def ring_config(tmp_path, **kw):
    base = dict(dataset="ring8", steps=5, batch_size=32, log_every=2, sample_every=1000,
                checkpoint_every=1000, out=str(tmp_path / "run"), progress=False, seed=3)
    base.update(kw)
    return TrainConfig(**base)


def test_update_ratio_of_a_known_step():
    layer = nn.Linear(3, 2)
    layer.weight.data[...] = [[3.0, 0.0, 0.0], [0.0, 4.0, 0.0]]       # ||W|| = 5
    layer.bias.data[...] = 0.0                                           # ||b|| = 0
    before = gradstats.weight_snapshot(layer)
    layer.weight.data[0, 0] += 0.3          # ||delta W|| = 0.5
    layer.weight.data[1, 1] -= 0.4
    layer.bias.data[...] = 1.0
    ratios = gradstats.update_ratios(before, "D")
    assert ratios == {"update_ratio/D/weight": pytest.approx(0.1, rel=1e-6)}   # no 0/0 entry


def test_input_gradient_of_a_linear_critic_is_its_weight_and_leaves_D_as_it_was():
    rng = np.random.default_rng(0)
    D = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
    lin = nn.Linear(3, 1)
    w = lin.weight.data.astype(np.float64)
    real = rng.standard_normal((5, 3)).astype(np.float32)
    fake = rng.standard_normal((7, 3)).astype(np.float32)
    norms = gradstats.input_grad_norms(lin, lin, real, fake)
    assert norms["d_input_grad/real"] == pytest.approx(np.linalg.norm(w), rel=1e-6)
    assert norms["d_input_grad/fake"] == pytest.approx(np.linalg.norm(w), rel=1e-6)
    assert lin.weight.grad is None and lin.weight.requires_grad

    # a D with batch norm: buffers, gradients and requires_grad come back as they were
    buffers = {k: v.copy() for k, v in D.named_buffers()}
    norms = gradstats.input_grad_norms(D, D, real, fake)
    assert all(np.isfinite(v) and v > 0 for v in norms.values())
    for k, v in D.named_buffers():
        np.testing.assert_array_equal(v, buffers[k], err_msg=k)
    assert all(p.grad is None and p.requires_grad for p in D.parameters())


def test_input_gradient_norm_is_the_mean_of_per_sample_norms():
    """D(x) = sum_j x_j^2 / 2 per sample (a critic as a function): dD/dx_i = x_i."""
    from scratchgan import functions as F
    x = np.array([[3.0, 4.0], [0.0, 1.0]])               # norms 5 and 1
    critic = lambda t: F.sum(t * t, axis=1) * 0.5       # noqa: E731
    norms = gradstats.input_grad_norms(nn.Linear(1, 1), critic, x, 2 * x)
    assert norms == {"d_input_grad/real": pytest.approx(3.0), "d_input_grad/fake": pytest.approx(6.0)}


def test_the_statistics_are_in_the_records_of_log_steps_only(tmp_path):
    t = build_trainer(ring_config(tmp_path, n_critic=2))
    for step in range(1, 6):
        record = t.train_step()
        extra = {k for k in record if k.startswith(("update_ratio/", "d_input_grad/"))}
        if step in (2, 4, 5):           # log_every 2, and the last step
            assert {"d_input_grad/real", "d_input_grad/fake"} <= extra
            assert any(k.startswith("update_ratio/G/") for k in extra)
            assert any(k.startswith("update_ratio/D/") for k in extra)
            assert all(np.isfinite(record[k]) and record[k] >= 0 for k in extra)
        else:
            assert not extra, step


def test_adam_first_step_ratio_is_lr_times_the_norm_of_g_over_abs_g(tmp_path):
    """Adam's first update is lr * g / (|g| + eps) per value (m and v bias-corrected), so the
    ratio of each layer is known from its gradient and its weights before the step."""
    t = build_trainer(ring_config(tmp_path, log_every=1, lr_g=1e-3, lr_d=3e-4, ema=0.0))
    before = {(net, name): p.data.astype(np.float64).copy()
              for net, module in (("G", t.G), ("D", t.D)) for name, p in module.named_parameters()}
    record = t.train_step()
    for net, module, lr in (("G", t.G, 1e-3), ("D", t.D, 3e-4)):
        for name, p in module.named_parameters():
            w0 = before[(net, name)]
            key = f"update_ratio/{net}/{name}"
            if not np.any(w0):
                assert key not in record
                continue
            g = p.grad.data.astype(np.float64)
            expected = lr * np.linalg.norm(g / (np.abs(g) + 1e-8)) / np.linalg.norm(w0)
            assert record[key] == pytest.approx(expected, rel=1e-3, abs=1e-9), key


def test_probing_changes_nothing_the_run_computes(tmp_path):
    """DCGAN with batch norm in D: logging every step gives the same losses and the same
    D (weights and running statistics) as logging only at the end."""
    def run(log_every, out):
        t = build_trainer(TrainConfig(batch_size=8, ema=0.0, steps=3, log_every=log_every,
                                      out=str(out), progress=False))
        return t, [(r["loss_d"], r["loss_g"]) for r in (t.train_step() for _ in range(3))]
    a, losses_a = run(1, tmp_path / "a")
    b, losses_b = run(100, tmp_path / "b")
    assert losses_a == losses_b
    for (name, x), (_, y) in zip(a.D.state_dict().items(), b.D.state_dict().items()):
        np.testing.assert_array_equal(x, y, err_msg=name)


def test_metrics_jsonl_and_the_plot_hold_them(tmp_path):
    Run(ring_config(tmp_path, steps=4, log_every=2)).run()
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [2, 4]
    for r in records:
        assert r["d_input_grad/real"] > 0 and r["d_input_grad/fake"] > 0
        assert any(k.startswith("update_ratio/D/") for k in r)
    assert (tmp_path / "run" / "grad_norms.png").stat().st_size > 0
