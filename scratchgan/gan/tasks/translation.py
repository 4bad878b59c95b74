"""Image-to-image translation (pix2pix, Isola et al. 2017): G(x) -> y on pairs (x, y), and a
discriminator D(x, y) that judges a pair (a map of patch logits).

One D update:  x, y <- a batch of pairs;  fake <- G(x) without a graph;
               L_D = loss.d_loss(D(x, y), D(x, fake)) (plus its penalties, taken on the
               pair's output half: the critic is t -> D(x, t), the real and fake points
               y and fake)
One G update:  fake <- G(x) on the last D batch;
               L_G = loss.g_term(D(x, fake)) + lambda * l1(fake, y)     (lambda 100)

Any GAN loss serves for the adversarial part; D keeps batch norm unless the loss has a
penalty (``GANLoss.batchnorm_in_d``), as for generation. G's only noise is its dropout
(pix2pix draws no z). Its masks are drawn from the run's noise generator (``rng``, through
``scratchgan.random.drawing_from``), whose state the checkpoints hold: a resumed run is
exact, and two trainers in one process never share a stream. Samples and evaluations run
G in eval mode: dropout off, batch norm on its running statistics (pix2pix itself keeps
dropout and batch statistics at test time; an eval-mode G is deterministic, so a
translation is reproducible).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from scratchgan import functions as F
from scratchgan import nn, viz
from scratchgan import random as sg_random
from scratchgan.autograd import Tensor
from scratchgan.backend import to_device
from scratchgan.config import no_grad
from scratchgan.data import PairedDataset
from scratchgan.gan.losses import GANLoss


def triplet_rows(inputs: np.ndarray, outputs: np.ndarray, targets: np.ndarray,
                 nrow: int = 10) -> np.ndarray:
    """Images for a grid of ``nrow`` columns: per group of ``nrow`` pairs a row of inputs, a
    row of outputs, a row of targets (grey images repeated to RGB when the others are)."""
    channels = max(inputs.shape[1], outputs.shape[1], targets.shape[1])

    def rgb(a: np.ndarray) -> np.ndarray:
        return np.repeat(a, channels, axis=1) if a.shape[1] != channels else a
    inputs, outputs, targets = rgb(inputs), rgb(outputs), rgb(targets)
    rows = []
    for start in range(0, len(inputs), nrow):
        for part in (inputs, outputs, targets):
            row = part[start:start + nrow]
            pad = np.full((nrow - len(row), *row.shape[1:]), -1, row.dtype)
            rows.append(np.concatenate([row, pad]))
    return np.concatenate(rows)


class TranslationTask:
    """pix2pix on ``dataset`` (a PairedDataset), lambda = ``l1_weight``. ``fixed``: the
    held-out pairs (inputs, targets) the run's grids show, as input / output / target rows."""

    def __init__(self, dataset: PairedDataset, fixed: tuple[np.ndarray, np.ndarray],
                 l1_weight: float, device: str) -> None:
        self.dataset, self.l1_weight, self.device = dataset, float(l1_weight), device
        self.fixed_inputs, self.fixed_targets = fixed

    def _to_device(self, a: np.ndarray) -> Any:
        return to_device(a, self.device)

    def place(self, batch: tuple) -> tuple:
        """(inputs, targets) on the device (labels, when the pairs have them, are left)."""
        return self._to_device(batch[0]), self._to_device(batch[1])

    def d_loss(self, G: nn.Module, D: nn.Module, loss: GANLoss, batch: tuple,
               rng: np.random.Generator) -> tuple[Tensor, dict[str, Any]]:
        x, y = batch
        with no_grad(), sg_random.drawing_from(rng):
            fake = G(x).data
        real_out, fake_out = D(x, y), D(x, fake)
        loss_d = loss.d_loss(real_out, fake_out, lambda t: D(x, t), y, fake, rng)
        return loss_d, {"d_real": loss.mean_output(real_out), "d_fake": loss.mean_output(fake_out)}

    def g_loss(self, G: nn.Module, D: nn.Module, loss: GANLoss, batch: tuple,
               rng: np.random.Generator) -> tuple[Tensor, dict[str, Any]]:
        x, y = batch
        with sg_random.drawing_from(rng):   # G's dropout masks (kept for the backward pass)
            fake = G(x)
        l1 = F.l1(fake, y)
        return loss.g_term(D(x, fake)) + self.l1_weight * l1, {"l1": l1.data}

    def draw_inputs(self, rng: np.random.Generator, n: int) -> tuple:
        """n training inputs drawn with ``rng`` (the EMA's batch-norm statistics)."""
        return (self._to_device(self.dataset.inputs[rng.integers(0, len(self.dataset), n)]),)

    def generator_args(self, inputs: np.ndarray) -> tuple:
        return (self._to_device(np.asarray(inputs, np.float32)),)

    def save_samples(self, generate: Callable[..., np.ndarray], path: Path, title: str) -> None:
        """The fixed held-out pairs as rows of inputs, outputs and targets."""
        nrow = min(10, len(self.fixed_inputs))
        outputs = generate(self.fixed_inputs)
        viz.save_image_grid(triplet_rows(self.fixed_inputs, outputs, self.fixed_targets, nrow),
                            path, nrow=nrow, title=f"{title} (rows: input, output, target)")
