"""A small CNN digit classifier, trained with scratchgan itself, whose penultimate
features and class probabilities feed FD, KID, precision/recall, IS and class
coverage.

Architecture (images (N, 1, 28, 28) in [-1, 1], like the datasets and G's tanh):

    Conv(1, 32, k3 s1 p1) -> LeakyReLU(0.1)                                 (32, 28, 28)
    Conv(32, 64, k4 s2 p1, no bias) -> BatchNorm2d -> LeakyReLU(0.1)        (64, 14, 14)
    Conv(64, 128, k4 s2 p1, no bias) -> BatchNorm2d -> LeakyReLU(0.1)       (128, 7, 7)
    flatten -> Linear(6272, 128, no bias) -> BatchNorm1d -> LeakyReLU(0.1)  features (N, 128)
    Linear(128, 10)                                                         logits (N, 10)

Shipped weights live in ``weights/<name>.npz`` beside this file, written by
``benchmarks/quality/train_classifier.py``: a scratchgan checkpoint (npz + JSON,
never pickle) holding the architecture's sizes, the state dict and a metadata
document (the training command, seed, epochs, test accuracy, dataset checksum).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from scratchgan import functions as F
from scratchgan import nn
from scratchgan.autograd import Tensor
from scratchgan.config import no_grad
from scratchgan.gan import checkpoint

WEIGHTS_FOLDER = Path(__file__).resolve().parent / "weights"

#: the classifier that scores each image dataset; ``digits`` are 28x28 white-on-black
#: digits framed like MNIST's, so the MNIST classifier scores them too
CLASSIFIER_FOR_DATASET = {"mnist": "mnist", "digits": "mnist", "fashion-mnist": "fashion-mnist"}


class DigitClassifier(nn.Module):
    """The CNN above: ``features(x)`` gives the 128-d penultimate layer, ``forward(x)``
    the logits."""

    def __init__(self, channels: int = 1, num_classes: int = 10, feature_dim: int = 128) -> None:
        super().__init__()
        self.channels, self.num_classes, self.feature_dim = channels, num_classes, feature_dim
        self.body = nn.Sequential(
            nn.Conv2d(channels, 32, 3, 1, 1), nn.LeakyReLU(0.1),
            nn.Conv2d(32, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.LeakyReLU(0.1),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.1),
            nn.Flatten(), nn.Linear(128 * 7 * 7, feature_dim, bias=False),
            nn.BatchNorm1d(feature_dim), nn.LeakyReLU(0.1))
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim != 4 or x.shape[1:] != (self.channels, 28, 28):
            raise ValueError(f"DigitClassifier expects images of shape "
                             f"(N, {self.channels}, 28, 28), got {x.shape}")
        return self.body(x)

    def forward(self, x: Any) -> Tensor:
        return self.head(self.features(x))


def cross_entropy(logits: Tensor, labels: np.ndarray) -> Tensor:
    """Mean softmax cross-entropy, -(1/N) sum_i log softmax(z_i)[y_i], built from Functions:

        log softmax(z)_c = (z_c - m) - log sum_k exp(z_k - m),   m = max_k z_k

    m is a constant (no gradient): log softmax does not change when every logit
    shifts by the same amount, so the shift is exact and keeps exp from overflowing.
    Gradient: d/dz_i = (softmax(z_i) - onehot(y_i)) / N.
    """
    shifted = logits - Tensor(logits.data.max(axis=1, keepdims=True))
    log_probs = shifted - F.log(F.sum(F.exp(shifted), axis=1, keepdims=True))
    onehot = np.eye(logits.shape[1], dtype=logits.dtype)[labels]
    return -F.mean(F.sum(log_probs * Tensor(onehot), axis=1))


def softmax(logits: np.ndarray) -> np.ndarray:
    """softmax(z)_c = exp(z_c - m) / sum_k exp(z_k - m) over the last axis, m = max_k z_k."""
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def features_and_probs(classifier: DigitClassifier, images: np.ndarray,
                       batch_size: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """(features (N, 128), probabilities (N, K)) of ``images`` (N, C, 28, 28) in [-1, 1], as
    float64, computed ``batch_size`` images at a time without a graph and in eval mode
    (batch norm uses its running statistics; the classifier's mode is restored after)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    was_training = classifier.training
    classifier.eval()
    feats, probs = [], []
    try:
        with no_grad():
            for start in range(0, len(images), batch_size):
                batch = np.asarray(images[start:start + batch_size], dtype=np.float32)
                h = classifier.features(batch)
                feats.append(h.data.astype(np.float64))
                probs.append(softmax(classifier.head(h).data.astype(np.float64)))
    finally:
        classifier.train(was_training)
    if not feats:
        raise ValueError("features_and_probs needs at least one image")
    return np.concatenate(feats), np.concatenate(probs)


def save_classifier(classifier: DigitClassifier, path: str | Path,
                    metadata: dict[str, Any]) -> Path:
    """Write the classifier's sizes, weights and ``metadata`` (JSON-able) to ``path``
    atomically, as a scratchgan checkpoint."""
    return checkpoint.save(path, {
        "kind": "classifier",
        "sizes": {"channels": classifier.channels, "num_classes": classifier.num_classes,
                  "feature_dim": classifier.feature_dim},
        "state": dict(classifier.state_dict()), "metadata": metadata})


def load_classifier_file(path: str | Path) -> DigitClassifier:
    """The classifier saved at ``path``, in eval mode; its metadata in ``.metadata``."""
    state = checkpoint.load(path)
    if state.get("kind") != "classifier":
        raise checkpoint.CheckpointError(f"{path} holds no classifier")
    try:
        classifier = DigitClassifier(**state["sizes"])
        classifier.load_state_dict(state["state"])
    except (KeyError, TypeError, ValueError) as e:
        raise checkpoint.CheckpointError(f"{path} does not hold a usable classifier: {e}") from None
    classifier.metadata = state.get("metadata", {})
    return classifier.eval()


def shipped_classifiers() -> list[str]:
    """Names of the classifiers whose weights ship with scratchgan."""
    return sorted(p.stem for p in WEIGHTS_FOLDER.glob("*.npz"))


def load_classifier(name: str) -> DigitClassifier:
    """The shipped classifier ``name`` (e.g. "mnist"), in eval mode."""
    path = WEIGHTS_FOLDER / f"{name}.npz"
    if not path.is_file():
        shipped = ", ".join(shipped_classifiers()) or "none"
        raise FileNotFoundError(f"no classifier weights {name!r} ship with scratchgan "
                                f"(shipped: {shipped}); train them with "
                                f"benchmarks/quality/train_classifier.py --dataset {name} "
                                f"--out {path}")
    return load_classifier_file(path)


def classifier_for_dataset(dataset: str) -> str:
    """The name of the classifier that scores ``dataset``; a ValueError if none does."""
    if dataset not in CLASSIFIER_FOR_DATASET:
        raise ValueError(f"no classifier scores dataset {dataset!r}: image metrics exist for "
                         f"{', '.join(sorted(CLASSIFIER_FOR_DATASET))}")
    return CLASSIFIER_FOR_DATASET[dataset]
