"""An exponential moving average of G's weights, with batch-norm statistics of its own.

    G_ema <- d G_ema + (1 - d) G,  d = min(decay, (1 + t) / (10 + t))  at step t

(the warm-up keeps the average from being dominated by the initial weights early on).
G's running statistics belong to G's weights, not to their average: before the average
samples or is saved, its own statistics are estimated from ``STATISTICS_BATCHES`` batches
of generator inputs, drawn from a generator seeded by (seed, step), so sampling never
moves the training's random streams (resume stays exact). A generator with dropout
(pix2pix) draws its masks from that generator too (``scratchgan.random.drawing_from``), not
from the library's global one.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from scratchgan import nn
from scratchgan import random as sg_random

#: batches of generator inputs that estimate the average's batch-norm statistics
STATISTICS_BATCHES = 10

#: (rng, n) -> the arguments of one generator call on n samples (noise, labels, ...)
DrawInputs = Callable[[np.random.Generator, int], tuple]


class EMA:
    """The average ``average`` of ``model``'s weights (``average`` starts as a copy)."""

    def __init__(self, model: nn.Module, average: nn.Module, decay: float,
                 draw_inputs: DrawInputs, seed: int, batch_size: int) -> None:
        if not 0 < decay <= 1:
            raise ValueError(f"EMA decay must lie in (0, 1], got {decay!r}")
        self.model, self.average, self.decay = model, average, decay
        self.draw_inputs, self.seed, self.batch_size = draw_inputs, seed, batch_size
        self.average.load_state_dict(model.state_dict())
        self._statistics_step: int | None = None

    def update(self, step: int) -> None:
        """Move the average towards the model after update ``step`` (counted from 0)."""
        decay = min(self.decay, (1 + step) / (10 + step))
        averaged = dict(self.average.named_parameters())
        for name, p in self.model.named_parameters():
            e = averaged[name].data
            e *= decay
            e += (1 - decay) * p.data

    def sampler(self, step: int) -> nn.Module:
        """The average, with its batch-norm statistics estimated for its weights at ``step``."""
        if self._statistics_step != step:
            rng = np.random.default_rng([self.seed, 3, step])
            # a generator with dropout draws its masks from the global generator in training
            # mode: here they come from rng too, and the global generator is left untouched
            with sg_random.drawing_from(rng):
                nn.estimate_batch_norm_statistics(
                    self.average, lambda: self.average(*self.draw_inputs(rng, self.batch_size)),
                    STATISTICS_BATCHES)
            self.average.train()
            self._statistics_step = step
        return self.average

    def state_dict(self, step: int) -> dict[str, Any]:
        """The average's state at ``step``, statistics included."""
        return dict(self.sampler(step).state_dict())

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.average.load_state_dict(state)
        self._statistics_step = None
