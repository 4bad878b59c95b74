"""Training on the GPU: a few hundred DCGAN steps, CPU/GPU agreement of the losses over the
first steps (same seed: every random number is drawn on the host), float64 gradients of
the full models equal on both devices, checkpoints that move between devices, the other
losses and conditionings, the CLI, and the benchmark. Needs a GPU (marker ``gpu``)."""
import json

import numpy as np
import pytest

import scratchgan as sg
from scratchgan import functions as F
from scratchgan import random as sg_random
from scratchgan.gan import checkpoint
from scratchgan.gan.config import TrainConfig
from scratchgan.gan.losses import d_loss_bce, g_loss_nonsaturating
from scratchgan.gan.models import build_models
from scratchgan.gan.run import Run
from scratchgan.gan.build import build_trainer

pytestmark = pytest.mark.gpu


@pytest.fixture(autouse=True)
def dataset_cache_in_tmp(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SCRATCHGAN_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def _config(tmp_path, **kw):
    base = dict(dataset="digits", batch_size=64, steps=1000, ema=0.0, progress=False,
                out=str(tmp_path / "run"), seed=3)
    base.update(kw)
    return TrainConfig(**base)


def test_a_few_hundred_dcgan_steps(cp, tmp_path):
    t = build_trainer(_config(tmp_path, device="cuda", log_every=50))
    assert all(p.device == "cuda" for p in t.G.parameters())
    before = t.generate(t.task.fixed_z[:16])
    records = [t.train_step() for _ in range(300)]
    logged = [r for i, r in enumerate(records, 1) if i % 50 == 0]
    assert len(logged) == 6
    for r in logged:                                    # log steps: floats, all finite
        assert all(type(v) is float and np.isfinite(v) for v in r.values())
    after = t.generate(t.task.fixed_z[:16])
    assert isinstance(after, np.ndarray) and after.shape == (16, 1, 28, 28)
    assert np.isfinite(after).all() and np.abs(after - before).mean() > 1e-2  # G learned
    assert 0.0 < logged[-1]["d_real"] < 1.0


@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp"])
def test_cpu_and_gpu_losses_agree_over_the_first_steps(cp, tmp_path, loss):
    kw = dict(loss=loss, log_every=1, batch_size=32)
    cpu = build_trainer(_config(tmp_path, **kw))
    gpu = build_trainer(_config(tmp_path, device="cuda", **kw))
    for step in range(5):
        want, got = cpu.train_step(), gpu.train_step()
        for key in want:           # float32 on both; sums in other orders: close, not equal
            assert got[key] == pytest.approx(want[key], rel=2e-3, abs=2e-4), (step, key)


def test_float64_gradients_of_the_models_agree(cp):
    grads = {}
    for device in ("cpu", "cuda"):
        sg_random.manual_seed(0)
        G, D = build_models("dcgan", (1, 28, 28))
        G.to(device, np.float64)
        D.to(device, np.float64)
        rng = np.random.default_rng(1)
        z = sg.Tensor(rng.standard_normal((8, 100))).to(device)
        x = sg.Tensor(rng.uniform(-1, 1, (8, 1, 28, 28))).to(device)
        loss = d_loss_bce(D(x), D(G(z))) + g_loss_nonsaturating(D(G(z)))
        loss.backward()
        grads[device] = [p.grad.numpy() for p in list(G.parameters()) + list(D.parameters())]
        grads[device].append(loss.numpy())
    for a, b in zip(grads["cpu"], grads["cuda"]):
        np.testing.assert_allclose(b, a, rtol=1e-8, atol=1e-10 * max(float(np.abs(a).max()), 1e-3))


def test_gpu_checkpoints_resume_exactly_and_load_on_the_cpu(cp, tmp_path):
    full = Run(_config(tmp_path / "a", device="cuda", steps=6, checkpoint_every=3,
                       log_every=1, sample_every=1000)).run()
    part = Run(_config(tmp_path / "b", device="cuda", steps=3, checkpoint_every=3,
                       log_every=1, sample_every=1000)).run()
    assert part.step == 3
    resumed = Run(_config(tmp_path / "b", device="cuda", steps=6, checkpoint_every=3,
                          log_every=1, sample_every=1000), resume=True)
    assert resumed.resumed and resumed.trainer.step == 3
    resumed.run()
    want = [json.loads(s) for s in (tmp_path / "a" / "run" / "metrics.jsonl").read_text().split()]
    got = [json.loads(s) for s in (tmp_path / "b" / "run" / "metrics.jsonl").read_text().split()]
    for w, g in zip(want[3:], got[3:]):
        for key in ("loss_d", "loss_g", "d_real", "d_fake"):
            assert g[key] == pytest.approx(w[key], rel=1e-5, abs=1e-6), key
    # the checkpoint holds host arrays only: a CPU trainer resumes from it
    path = checkpoint.list_checkpoints(tmp_path / "a" / "run" / "checkpoints")[-1][1]
    state = checkpoint.load(path)
    cpu = build_trainer(_config(tmp_path / "c", steps=6))
    cpu.load_state_dict(state)
    assert cpu.step == 6 and all(p.device == "cpu" for p in cpu.G.parameters())
    np.testing.assert_array_equal(cpu.G.state_dict()["body.0.weight"],
                                  full.G.state_dict()["body.0.weight"])


@pytest.mark.parametrize("kw", [
    dict(loss="wgan-gp", n_critic=2), dict(loss="wgan", optimizer="rmsprop"),
    dict(loss="hinge", spectral_norm=True), dict(loss="lsgan", r1_weight=1.0),
    dict(conditional=True), dict(conditional=True, g_conditioning="onehot",
                                 d_conditioning="concat"),
    dict(dataset="ring8", model="mlp", batch_size=128, ema=0.99)])
def test_other_losses_and_conditionings_train_on_the_gpu(cp, tmp_path, kw):
    t = build_trainer(_config(tmp_path, device="cuda", log_every=5, **kw))
    for _ in range(5):
        record = t.train_step()
    assert all(type(v) is float and np.isfinite(v) for v in record.values())
    if kw.get("loss") == "wgan":
        assert all(float(cp.abs(p.data).max()) <= t.config.clip + 1e-7
                   for p in t.D.parameters())


def test_bce_fused_kernels_on_the_training_path(cp):
    logits = sg.Tensor(cp.asarray(np.array([[-3.0], [0.5], [40.0]], np.float32)),
                       requires_grad=True)
    loss = F.bce_with_logits(logits, 0.9)
    loss.backward()
    x = np.array([[-3.0], [0.5], [40.0]])
    p = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(logits.grad.numpy(), (p - 0.9) / 3, rtol=1e-5, atol=1e-7)


def test_cli_train_on_cuda(cp, tmp_path, capsys):
    from scratchgan.cli import main
    out = tmp_path / "run"
    code = main(["train", "--device", "cuda", "--steps", "20", "--out", str(out),
                 "--log-every", "5", "--sample-every", "10", "--checkpoint-every", "10",
                 "--no-progress"])
    assert code == 0, capsys.readouterr().err
    assert (out / "final_grid.png").exists() and (out / "curves.png").exists()
    records = [json.loads(s) for s in (out / "metrics.jsonl").read_text().split()]
    assert [r["step"] for r in records] == [5, 10, 15, 20]
    assert len(checkpoint.list_checkpoints(out / "checkpoints")) == 2


def test_bench_on_cuda(cp, tmp_path, capsys):
    from scratchgan.cli import main
    out = tmp_path / "bench.json"
    code = main(["bench", "--device", "cuda", "--quick", "--only", "kernels", "step",
                 "--batches", "4", "--kernel-batch", "2", "--repeats", "1", "--no-torch",
                 "--peak-size", "64", "--threads", "1", "--json", str(out)])
    assert code == 0
    results = json.loads(out.read_text())
    assert results["settings"]["device"] == "cuda" and results["machine"]["gpu"]["name"]
    assert results["machine"]["gpu"]["matmul_cupy"]["median"] > 0
    assert all("cuda" in r["results"] for r in results["kernels"]["rows"])
    assert all(r["max_rel_diff"] < 1e-3 for r in results["kernels"]["rows"])
    (row,) = results["step"]["rows"]
    assert row["name"] == "ours cuda" and row["median_s"] > 0 and row["gpu_mib"] > 0
    assert "GPU:" in capsys.readouterr().out
