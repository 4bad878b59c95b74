"""Translation metrics: L1, PSNR and classifier accuracy against known answers."""
import math

import numpy as np
import pytest

from scratchgan.data import load_dataset
from scratchgan.gan.metrics.classifier import load_classifier
from scratchgan.gan.metrics.translation import (TranslationScores, classifier_accuracy,
                                                l1_distance, psnr, translation_scores)


def test_l1_and_psnr_known_answers():
    targets = np.zeros((2, 1, 2, 2))
    outputs = targets.copy()
    outputs[0] += 0.5              # image 0: every pixel off by 0.5 -> MSE 0.25
    outputs[1, 0, 0, 0] = 2.0      # image 1: one pixel of four off by 2 -> MSE 1
    assert l1_distance(outputs, targets) == pytest.approx((4 * 0.5 + 2.0) / 8)
    want = (10 * math.log10(4 / 0.25) + 10 * math.log10(4 / 1.0)) / 2
    assert psnr(outputs, targets) == pytest.approx(want)
    assert psnr(outputs[1:], targets[1:], data_range=1.0) == pytest.approx(0.0)
    assert psnr(targets, targets) == math.inf and l1_distance(targets, targets) == 0


def test_mismatched_batches_are_refused():
    with pytest.raises(ValueError, match="of one shape"):
        l1_distance(np.zeros((2, 1, 4, 4)), np.zeros((2, 1, 4, 3)))
    with pytest.raises(ValueError, match="N >= 1"):
        psnr(np.zeros((0, 1, 4, 4)), np.zeros((0, 1, 4, 4)))


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", "test", n=100)    # cached in the session's tmp (conftest)


def test_classifier_accuracy_on_digits_and_on_blank_images(digits):
    classifier = load_classifier("mnist")
    assert classifier_accuracy(classifier, digits.data, digits.labels) >= 0.9
    blank = -np.ones_like(digits.data)      # one prediction for all: right on one class only
    share = np.mean(digits.labels == np.bincount(digits.labels).argmax())
    assert classifier_accuracy(classifier, blank, digits.labels) <= share + 1e-12
    with pytest.raises(ValueError, match="100 images but 3 labels"):
        classifier_accuracy(classifier, digits.data, digits.labels[:3])


def test_a_perfect_translation_reaches_the_ceiling(digits):
    classifier = load_classifier("mnist")
    scores = translation_scores(digits.data, digits.data, digits.labels, classifier)
    assert scores.l1 == 0 and scores.psnr == math.inf
    assert scores.accuracy == scores.ceiling >= 0.9
    flipped = translation_scores(-digits.data, digits.data, digits.labels, classifier)
    assert flipped.accuracy < scores.ceiling and flipped.l1 > 0
    assert translation_scores(digits.data, digits.data) == TranslationScores(0.0, math.inf)
