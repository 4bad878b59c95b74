"""Class histogram and coverage of predicted classes."""
import numpy as np
import pytest

from scratchgan.gan.metrics import class_coverage, class_histogram


def test_all_samples_on_one_class_cover_one_class():
    c = class_coverage(np.full(1000, 7), 10)
    assert c.classes_covered == 1 and c.histogram[7] == 1000 and sum(c.histogram) == 1000
    assert c.max_class_share == 1.0 and c.min_class_share == 0.0


def test_balanced_predictions_cover_every_class():
    probs = np.eye(10)[np.arange(1000) % 10] * 0.9 + 0.01
    c = class_coverage(probs, 10)
    assert c.classes_covered == 10 and c.min_share == pytest.approx(0.05)
    assert c.max_class_share == pytest.approx(0.1) and c.min_class_share == pytest.approx(0.1)


def test_a_class_below_half_its_fair_share_is_not_covered():
    # 10 classes, threshold 1/20 = 5%: class 9 gets 4%, class 8 gets exactly 5%
    labels = np.concatenate([np.repeat(np.arange(8), 113), np.full(50, 8), np.full(40, 9)])
    labels = np.concatenate([labels, np.zeros(1000 - len(labels), int)])
    c = class_coverage(labels, 10)
    assert c.classes_covered == 9 and c.min_class_share == pytest.approx(0.04)
    assert class_coverage(labels, 10, min_share=0.001).classes_covered == 10


def test_histogram_of_probabilities_uses_the_argmax():
    probs = np.array([[0.6, 0.4, 0.0], [0.2, 0.3, 0.5], [0.1, 0.8, 0.1], [0.5, 0.1, 0.4]])
    np.testing.assert_array_equal(class_histogram(probs, 3), [2, 1, 1])


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"integers in \[0, 3\)"):
        class_histogram(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="3 columns"):
        class_histogram(np.full((2, 4), 0.25), 3)
    with pytest.raises(ValueError, match="min_share"):
        class_coverage(np.array([0, 1]), 3, min_share=0)
