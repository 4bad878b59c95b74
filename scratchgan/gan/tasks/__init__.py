"""Tasks: what one training step computes, given G, D and a loss.

The trainer owns the loop (n_critic D updates, then one G update, the optimisers, the
EMA, the guard); a task owns what is inside each update: which batch arrays go to the
device, what G is fed, what D scores, and which loss terms that makes. A task is any
object with the methods of :class:`Task`.

    GANTask           unconditional or class-conditional generation, G(z, y) -> x
    TranslationTask   image-to-image translation (pix2pix) on pairs, G(x) -> y, D(x, y)
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np

from scratchgan import nn
from scratchgan.autograd import Tensor
from scratchgan.gan.losses import GANLoss
from scratchgan.gan.tasks.generation import GANTask
from scratchgan.gan.tasks.translation import TranslationTask

#: the metrics of one update, by name: 0-d arrays on the run's device
Metrics = dict[str, Any]


class Task(Protocol):
    """What a task provides to the trainer (each method's batch is what :meth:`place`
    returned for a batch of the data source; ``rng`` is the run's noise generator, whose
    state the checkpoints hold)."""

    def place(self, batch: tuple) -> tuple:
        """A host batch of the data source, with the arrays the step computes on moved to
        the run's device (once per batch)."""

    def d_loss(self, G: nn.Module, D: nn.Module, loss: GANLoss, batch: tuple,
               rng: np.random.Generator) -> tuple[Tensor, Metrics]:
        """L_D on one batch (G run without a graph), and metrics such as mean D(x)."""

    def g_loss(self, G: nn.Module, D: nn.Module, loss: GANLoss, batch: tuple,
               rng: np.random.Generator) -> tuple[Tensor, Metrics]:
        """L_G (D's weights are frozen around this call); ``batch`` is the last D update's."""

    def draw_inputs(self, rng: np.random.Generator, n: int) -> tuple:
        """G's arguments for n samples, on the device (the EMA's statistics batches)."""

    def generator_args(self, *inputs: Any) -> tuple:
        """Host inputs of ``Trainer.generate`` as G's arguments on the device."""

    def save_samples(self, generate: Callable[..., np.ndarray], path: Path, title: str) -> None:
        """Draw the run's fixed inputs through ``generate`` into a picture at ``path``."""


__all__ = ["Task", "Metrics", "GANTask", "TranslationTask"]
