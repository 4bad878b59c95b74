"""The Inception Score of a classifier's predictions (Salimans et al. 2016).

    IS = exp( E_x KL( p(y|x) || p(y) ) ),   p(y) = E_x p(y|x)

It is high when each sample is classified confidently (p(y|x) peaked) and the
samples spread over the classes (p(y) flat): it lies between 1 (every sample
predicts the same distribution) and K, the number of classes (confident
predictions, classes equally often). Scored with a digit classifier instead of
Inception-v3 it is the "classifier score"; compare numbers only between runs
scored with the same classifier.
"""
from __future__ import annotations

import numpy as np

from scratchgan.gan.metrics.arrays import MeanStd, as_probabilities


def _score(p: np.ndarray) -> float:
    """exp of the mean over rows of KL(p_i || mean_i p_i); 0 log 0 counts as 0."""
    marginal = p.mean(axis=0)
    safe = np.where(p > 0, p, 1.0)  # log(1) = 0 where p = 0: those terms vanish
    kl = np.sum(p * (np.log(safe) - np.log(np.where(p > 0, marginal, 1.0))), axis=1)
    return float(np.exp(kl.mean()))


def inception_score(probs: np.ndarray, splits: int = 10) -> MeanStd:
    """The IS of ``probs`` (n, K) (rows: a classifier's p(y|x)), computed on each of
    ``splits`` consecutive, nearly equal parts of the rows (p(y) taken within the
    part, as in the original code); returns the mean and the (population) standard
    deviation over the parts."""
    p = as_probabilities(probs)
    if not 1 <= splits <= len(p):
        raise ValueError(f"splits must lie in [1, {len(p)}] (the number of samples), got {splits}")
    scores = [_score(part) for part in np.array_split(p, splits)]
    return MeanStd(float(np.mean(scores)), float(np.std(scores)))
