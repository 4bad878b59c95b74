"""The feature classifier: its loss, batched inference, saving and the shipped weights."""
import numpy as np
import pytest

from scratchgan import optim
from scratchgan import random as sg_random
from scratchgan.autograd import Tensor
from scratchgan.gan.checkpoint import CheckpointError
from scratchgan.gan.metrics.classifier import (DigitClassifier, classifier_for_dataset,
                                               cross_entropy, features_and_probs, load_classifier,
                                               load_classifier_file, save_classifier, softmax)


def test_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((6, 4)) * 30  # large logits: the max shift keeps exp finite
    y = np.array([0, 3, 1, 1, 2, 3])
    logits = Tensor(z, requires_grad=True)
    loss = cross_entropy(logits, y)
    shifted = z - z.max(1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    assert loss.item() == pytest.approx(-log_p[np.arange(6), y].mean(), rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(logits.grad.data, (softmax(z) - np.eye(4)[y]) / 6, atol=1e-12)


def test_a_few_adam_steps_fit_a_batch():
    sg_random.manual_seed(0)
    model = DigitClassifier()
    x = np.random.default_rng(1).uniform(-1, 1, (16, 1, 28, 28)).astype(np.float32)
    y = np.arange(16) % 10
    opt = optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(6):
        opt.zero_grad()
        loss = cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_features_and_probs_batched_in_eval_mode():
    sg_random.manual_seed(2)
    model = DigitClassifier().train()
    x = np.random.default_rng(3).uniform(-1, 1, (23, 1, 28, 28)).astype(np.float32)
    feats, probs = features_and_probs(model, x, batch_size=5)
    assert feats.shape == (23, 128) and probs.shape == (23, 10) and feats.dtype == np.float64
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    assert model.training  # the mode is restored
    again, _ = features_and_probs(model, x, batch_size=23)  # eval mode: no batch statistics
    np.testing.assert_allclose(feats, again, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        features_and_probs(model, x[:, :, :27])


def test_save_and_load_keep_weights_and_metadata(tmp_path):
    sg_random.manual_seed(4)
    model = DigitClassifier()
    path = save_classifier(model, tmp_path / "c.npz", {"seed": 4, "test_accuracy": 0.5})
    loaded = load_classifier_file(path)
    assert loaded.metadata == {"seed": 4, "test_accuracy": 0.5} and not loaded.training
    x = np.random.default_rng(5).uniform(-1, 1, (4, 1, 28, 28)).astype(np.float32)
    np.testing.assert_array_equal(features_and_probs(model, x)[0], features_and_probs(loaded, x)[0])
    (tmp_path / "not.npz").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match="corrupted"):
        load_classifier_file(tmp_path / "not.npz")


def test_unknown_classifiers_and_datasets_are_named():
    with pytest.raises(FileNotFoundError, match="weights 'cifar10'.*train_classifier"):
        load_classifier("cifar10")
    with pytest.raises(ValueError, match="no classifier scores dataset 'ring8'"):
        classifier_for_dataset("ring8")
    assert classifier_for_dataset("digits") == "mnist"


def test_shipped_mnist_weights_record_how_they_were_made():
    model = load_classifier("mnist")
    meta = model.metadata
    assert meta["dataset"] == "mnist" and meta["test_accuracy"] >= 0.99
    assert "train_classifier.py" in meta["command"]
    assert {"seed", "epochs", "data_sha256"} <= set(meta)
