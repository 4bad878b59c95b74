"""Quality evaluations during training (``eval_every``): eval.jsonl in the run folder."""
import json

import numpy as np
import pytest

from scratchgan.gan.config import TrainConfig
from scratchgan.gan.run import Run


def config(tmp_path, **kw):
    base = dict(dataset="ring8", steps=6, batch_size=32, log_every=1, sample_every=1000,
                checkpoint_every=3, out=str(tmp_path / "run"), progress=False, seed=3,
                eval_every=3, eval_n=200)
    base.update(kw)
    return TrainConfig(**base)


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_mixture_run_writes_mode_statistics_every_eval_every_steps(tmp_path):
    Run(config(tmp_path, steps=7)).run()
    records = read(tmp_path / "run" / "eval.jsonl")
    assert [r["step"] for r in records] == [3, 6, 7]  # and the last step
    for r in records:
        assert r["n"] == 200 and r["num_modes"] == 8
        assert 0 <= r["modes_captured"] <= 8 and 0.0 <= r["high_quality_fraction"] <= 1.0


def test_the_evaluation_matches_scoring_the_trainer_directly(tmp_path):
    from scratchgan.gan.evaluate import evaluate_generator
    run = Run(config(tmp_path, steps=3))
    trainer = run.run()
    logged = read(tmp_path / "run" / "eval.jsonl")[-1]
    direct = evaluate_generator(trainer.generate, "ring8", 200, trainer.task.nz)
    assert logged["high_quality_fraction"] == direct["high_quality_fraction"]
    assert logged["reverse_kl"] == direct["reverse_kl"]


def test_resume_drops_evaluations_after_the_resumed_step(tmp_path):
    Run(config(tmp_path, steps=3)).run()
    path = tmp_path / "run" / "eval.jsonl"
    with open(path, "a") as fh:  # a record from a future the crash lost
        fh.write(json.dumps({"step": 5, "stale": True}) + "\n")
    Run(config(tmp_path, steps=6), resume=True).run()
    records = read(path)
    assert [r["step"] for r in records] == [3, 6]
    assert not any(r.get("stale") for r in records)


def test_an_image_run_logs_image_metrics(tmp_path):
    Run(config(tmp_path, dataset="digits", steps=2, eval_every=2, eval_n=50, batch_size=8,
               score_n=30)).run()
    (record,) = read(tmp_path / "run" / "eval.jsonl")
    for key in ("fd", "is_mean", "kid_mean", "precision", "recall", "classes_covered"):
        assert np.isfinite(record[key]), key
    scores = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert scores["step"] == 2 and scores["n"] == 30 and scores["reference_size"] == 30
    assert "label_accuracy" not in scores        # unconditional


def test_eval_every_on_a_dataset_without_metrics_fails_before_training(tmp_path):
    images = (np.random.default_rng(0).random((64, 28, 28)) * 255).astype(np.uint8)
    np.savez(tmp_path / "own.npz", images=images)
    with pytest.raises(ValueError, match="classifier|metrics"):
        Run(config(tmp_path, dataset=f"npz:{tmp_path / 'own.npz'}", steps=2))
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_a_run_without_evaluations_writes_no_eval_file(tmp_path):
    Run(config(tmp_path, steps=2, eval_every=0)).run()
    assert not (tmp_path / "run" / "eval.jsonl").exists()
