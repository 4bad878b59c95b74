"""How close translated images come to their targets (pix2pix), on held-out pairs.

Images are (N, C, H, W) in [-1, 1], as the datasets and G's tanh give them.

* L1: mean over pixels of |output - target| (the pix2pix reconstruction term's value);
* PSNR: per image 10 log10(R^2 / MSE_i), R = 2 the span of [-1, 1], averaged over images
  (infinite for an image reproduced exactly, so the mean is too);
* for the digit sets, the accuracy of a digit classifier on the outputs against the
  pairs' labels (does the edge map of a 7 become a 7?), beside its accuracy on the
  targets themselves: the ceiling a perfect translation reaches.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scratchgan.gan.metrics.class_coverage import predicted_labels
from scratchgan.gan.metrics.classifier import DigitClassifier, features_and_probs

DATA_RANGE = 2.0     # images span [-1, 1]


@dataclass(frozen=True)
class TranslationScores:
    l1: float                       # mean |output - target| over all pixels
    psnr: float                     # mean over images of the PSNR in dB
    accuracy: float | None = None   # the classifier's accuracy on the outputs
    ceiling: float | None = None    # its accuracy on the targets


def _pair(outputs: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    outputs, targets = np.asarray(outputs, np.float64), np.asarray(targets, np.float64)
    if outputs.shape != targets.shape or outputs.ndim != 4 or not len(outputs):
        raise ValueError(f"outputs and targets must be image batches (N, C, H, W) of one shape "
                         f"with N >= 1, got {outputs.shape} and {targets.shape}")
    return outputs, targets


def l1_distance(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Mean absolute difference over every pixel of every image."""
    outputs, targets = _pair(outputs, targets)
    return float(np.abs(outputs - targets).mean())


def psnr(outputs: np.ndarray, targets: np.ndarray, data_range: float = DATA_RANGE) -> float:
    """Mean over images of 10 log10(data_range^2 / MSE_i), in dB."""
    outputs, targets = _pair(outputs, targets)
    mse = ((outputs - targets) ** 2).reshape(len(outputs), -1).mean(axis=1)
    with np.errstate(divide="ignore"):
        return float(np.mean(10 * np.log10(data_range ** 2 / mse)))


def classifier_accuracy(classifier: DigitClassifier, images: np.ndarray,
                        labels: np.ndarray) -> float:
    """The share of ``images`` that ``classifier`` assigns their ``labels``."""
    _, probs = features_and_probs(classifier, images)
    labels = predicted_labels(labels, classifier.num_classes)
    if len(labels) != len(probs):
        raise ValueError(f"{len(probs)} images but {len(labels)} labels")
    return float(np.mean(probs.argmax(axis=1) == labels))


def translation_scores(outputs: np.ndarray, targets: np.ndarray, labels: np.ndarray | None = None,
                       classifier: DigitClassifier | None = None) -> TranslationScores:
    """L1 and PSNR of ``outputs`` against ``targets``; with ``labels`` and a ``classifier``,
    its accuracy on the outputs and, as the ceiling, on the targets."""
    l1, db = l1_distance(outputs, targets), psnr(outputs, targets)
    if labels is None or classifier is None:
        return TranslationScores(l1, db)
    return TranslationScores(l1, db, classifier_accuracy(classifier, outputs, labels),
                             classifier_accuracy(classifier, targets, labels))
