"""A run scores itself when it ends: scores.json, the printed table, the curves' score
panels (``score_n``), and the label accuracy of conditional generators."""
import json
import struct

import numpy as np
import pytest

from scratchgan.gan.config import TrainConfig
from scratchgan.gan.evaluate import label_accuracy, why_unscored
from scratchgan.gan.run import Run
from scratchgan.viz import plot_training_curves


def config(tmp_path, **kw):
    base = dict(dataset="ring8", steps=4, batch_size=16, log_every=1, sample_every=1000,
                checkpoint_every=2, out=str(tmp_path / "run"), progress=False, seed=1,
                score_n=300)
    base.update(kw)
    return TrainConfig(**base)


def png_size(path):
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


def test_a_run_writes_its_final_scores_and_shows_them_in_the_curves(tmp_path):
    run = Run(config(tmp_path, eval_every=2, eval_n=100))
    run.run()
    scores = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert scores == run.scores
    assert scores["step"] == 4 and scores["n"] == 300 and scores["kind"] == "points"
    assert 0 <= scores["modes_captured"] <= 8 and scores["seconds"] >= 0
    lines = (tmp_path / "run" / "eval.jsonl").read_text().splitlines()
    evals = [json.loads(line) for line in lines]
    assert [e["step"] for e in evals] == [2, 4] and evals[-1]["n"] == 100   # eval_n, not score_n
    # the curves gain a row of score panels (modes, high-quality share) under the losses
    bare = plot_training_curves(run.records, tmp_path / "bare.png")
    assert png_size(tmp_path / "run" / "curves.png")[1] > png_size(bare)[1]


def test_score_n_0_writes_no_scores(tmp_path):
    run = Run(config(tmp_path, score_n=0))
    run.run()
    assert run.scores is None and not (tmp_path / "run" / "scores.json").exists()


def test_a_dataset_without_a_classifier_trains_and_says_why_it_is_not_scored(tmp_path):
    images = (np.random.default_rng(0).random((32, 28, 28)) * 255).astype(np.uint8)
    np.savez(tmp_path / "own.npz", images=images)
    run = Run(config(tmp_path, dataset=f"npz:{tmp_path / 'own.npz'}", steps=1, batch_size=8,
                     ngf=4, ndf=4))
    assert any("no scores.json at the end: no classifier scores dataset" in n for n in run.notes)
    run.run()
    assert run.scores is None and not (tmp_path / "run" / "scores.json").exists()
    assert (tmp_path / "run" / "final_grid.png").exists()


def test_why_unscored_names_the_missing_classifier():
    assert why_unscored("digits") is None and why_unscored("ring8") is None
    assert "train_classifier.py --dataset fashion-mnist" in why_unscored("fashion-mnist")
    assert "no classifier scores dataset 'cifar10'" in why_unscored("cifar10")


def test_label_accuracy_counts_the_samples_read_as_their_label():
    probs = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    labels = np.array([0, 1, 1, 0])
    result = label_accuracy(probs, labels)
    assert result["label_accuracy"] == pytest.approx(0.5)
    assert result["label_accuracy_per_class"] == [0.5, 0.5, None]   # no sample drawn for 2
