"""Sample-quality metrics.

Pure NumPy on arrays (float64 inside):

* 2-D mixtures (PacGAN): :func:`mode_statistics`: modes captured, high-quality
  samples, reverse KL.
* features: :func:`frechet_distance` (FD; FID with Inception features),
  :func:`kernel_inception_distance` (KID), :func:`precision_recall` (k-NN manifolds).
* class probabilities: :func:`inception_score` (IS), :func:`class_coverage` and
  :func:`class_histogram`.
* image-to-image translation: :func:`translation_scores`: L1, PSNR and a classifier's
  accuracy on translated digits against its accuracy on the targets.

The features and probabilities of digit images come from a small CNN trained
with scratchgan itself (:mod:`scratchgan.gan.metrics.classifier`), not from
Inception-v3: the numbers compare runs with each other, not with papers' FIDs.

    >>> import numpy as np
    >>> from scratchgan.gan.metrics import frechet_distance
    >>> a = np.random.default_rng(0).standard_normal((5000, 2))
    >>> round(frechet_distance(a, a + [3.0, 4.0]), 3)
    25.0
"""
from scratchgan.gan.metrics.arrays import MeanStd
from scratchgan.gan.metrics.class_coverage import ClassCoverage, class_coverage, class_histogram
from scratchgan.gan.metrics.frechet import (feature_statistics, frechet_distance,
                                            frechet_distance_from_statistics, trace_sqrt_product)
from scratchgan.gan.metrics.inception_score import inception_score
from scratchgan.gan.metrics.kernel_distance import kernel_inception_distance, mmd2_unbiased
from scratchgan.gan.metrics.mixtures import ModeStats, mode_statistics
from scratchgan.gan.metrics.precision_recall import PrecisionRecall, precision_recall
from scratchgan.gan.metrics.translation import (TranslationScores, classifier_accuracy,
                                                l1_distance, psnr, translation_scores)

__all__ = ["ModeStats", "mode_statistics", "MeanStd", "feature_statistics", "frechet_distance",
           "frechet_distance_from_statistics", "trace_sqrt_product", "inception_score",
           "ClassCoverage", "class_coverage", "class_histogram", "kernel_inception_distance",
           "mmd2_unbiased", "PrecisionRecall", "precision_recall", "TranslationScores",
           "translation_scores", "l1_distance", "psnr", "classifier_accuracy"]
