"""--detect-anomaly: when the NaN guard stops a run, the steps since the last good
checkpoint are re-run with scratchgan.inspect.detect_anomaly on and the op that first
produced a non-finite value is named with its file and line; the guard's error stays."""
import json
import subprocess
import sys

import pytest

from scratchgan.gan.config import TrainConfig
from scratchgan.gan.run import Run
from scratchgan.gan.trainer import TrainingDiverged


def ring_config(tmp_path, **kw):
    base = dict(dataset="ring8", steps=6, batch_size=16, log_every=1, sample_every=1000,
                checkpoint_every=1, out=str(tmp_path / "run"), progress=False, seed=3)
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_diverging_resume_is_replayed_from_the_last_good_checkpoint(tmp_path):
    Run(ring_config(tmp_path, steps=2)).run()             # good checkpoints at steps 1 and 2
    run = Run(ring_config(tmp_path, lr_d=1e10, lr_g=1e10, detect_anomaly=True), resume=True)
    with pytest.raises(TrainingDiverged, match=r"^step 3: loss_g is nan") as caught:
        run.run()
    report = caught.value.anomaly
    assert "replayed from" in report and "ckpt-0000002.npz, steps 3 to 3" in report
    assert "at step 3, Linear produced the first non-finite value (forward)" in report
    assert "scratchgan/gan/models.py:" in report and "input 0:" in report
    # nothing of the replay reached the folder: the log ends at the last good step
    steps = [json.loads(line)["step"] for line in
             (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_without_a_checkpoint_the_replay_starts_at_the_run_start(tmp_path):
    run = Run(ring_config(tmp_path, loss="lsgan", lr_d=1e6, lr_g=1e6, checkpoint_every=100,
                          detect_anomaly=True))
    with pytest.raises(TrainingDiverged, match="step 1: loss_g is inf") as caught:
        run.run()
    report = caught.value.anomaly
    assert "from the start of the run (no checkpoint was written yet), steps 1 to 1" in report
    assert "Pow produced the first non-finite value (forward), at scratchgan/gan/losses.py:" in report


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_non_finite_optimiser_state_is_named_as_made_outside_the_graph(tmp_path):
    run = Run(ring_config(tmp_path, loss="wgan-gp", lr_d=1e6, detect_anomaly=True))
    with pytest.raises(TrainingDiverged, match="holds NaN or Inf values") as caught:
        run.run()
    assert "every op's output and every gradient stayed finite" in caught.value.anomaly
    assert "exp_avg_sq holds NaN or Inf: it was made outside the graph" in caught.value.anomaly


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_off_by_default_nothing_is_replayed(tmp_path):
    assert TrainConfig().detect_anomaly is False
    run = Run(ring_config(tmp_path, loss="lsgan", lr_d=1e6, lr_g=1e6))
    with pytest.raises(TrainingDiverged) as caught:
        run.run()
    assert getattr(caught.value, "anomaly", None) is None


def test_the_cli_prints_the_op_then_exits_with_the_guards_error(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-W", "ignore", "-m", "scratchgan", "train",
                           "--dataset", "ring8", "--loss", "lsgan", "--lr-d", "1e6",
                           "--lr-g", "1e6", "--batch-size", "16", "--steps", "5",
                           "--no-progress", "--detect-anomaly", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("detect_anomaly: replayed from the start of the run")
    assert "Pow produced the first non-finite value" in lines[0] and "losses.py:" in lines[0]
    assert lines[-1].startswith("scratchgan train: step 1: loss_g is inf")
    assert "Traceback" not in done.stderr
