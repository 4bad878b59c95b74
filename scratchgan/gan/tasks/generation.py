"""Generation, unconditional or class-conditional: G(z, y) -> x, D(x, y) -> score.

One D update:  x, y <- a real batch;  fake <- G(z, y) without a graph;
               L_D = loss.d_loss(D(x, y), D(fake, y)) (plus its penalties)
One G update:  y' <- random labels (conditional);  L_G = loss.g_term(D(G(z', y'), y'))

Packing (PacGAN, Lin et al. 2018; ``pack`` = m > 1): D scores packs of m samples, all
real or all generated. A batch of B samples is split into B / m consecutive groups, each
concatenated along the channels of an image, or the features of a point, into one
input of D (``pack_samples``); G and the number of samples a step draws are unchanged.
Penalties see the packed inputs, so WGAN-GP interpolates and takes gradient norms per
pack: the critic is 1-Lipschitz in the packed input, as PacGAN's D is a function of it.

Noise and labels are drawn on the host from the run's noise generator, then the noise is
copied to the run's device (labels stay on the host; the layers that take them copy them),
so a GPU run draws exactly the numbers of a CPU run with the same seed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from scratchgan import functions as F
from scratchgan import nn, viz
from scratchgan.autograd import Tensor
from scratchgan.backend import to_device
from scratchgan.config import no_grad
from scratchgan.data import Dataset
from scratchgan.gan.losses import GANLoss


def pack_samples(x: Any, m: int) -> Any:
    """(B, C, ...) -> (B / m, m C, ...): consecutive groups of m samples concatenated
    along axis 1 (a reshape of the row-major batch; a Tensor stays in the graph)."""
    if m == 1:
        return x
    shape = (x.shape[0] // m, m * x.shape[1]) + tuple(x.shape[2:])
    return F.reshape(x, shape) if isinstance(x, Tensor) else x.reshape(shape)


class GANTask:
    """Generation from ``nz``-dimensional noise, conditioned on ``num_classes`` labels
    when > 0. The fixed inputs of the run's sample grids are drawn from (seed, 2): 100 for
    images (10 per class when conditional), 2500 for points. ``pack`` > 1: D scores packs
    of that many samples (module docstring)."""

    def __init__(self, dataset: Dataset, nz: int, num_classes: int, batch_size: int,
                 device: str, seed: int, pack: int = 1) -> None:
        if batch_size % pack:
            raise ValueError(f"config key 'pack': each process's batch ({batch_size}) must be "
                             f"a multiple of the pack size ({pack})")
        if pack > 1 and num_classes:
            raise ValueError("config key 'pack': packing does not combine with conditioning")
        self.dataset, self.nz, self.num_classes = dataset, nz, num_classes
        self.batch_size, self.device, self.pack = batch_size, device, pack
        n_fixed = 100 if dataset.kind == "image" else 2500
        self.fixed_z = np.random.default_rng([seed, 2]).standard_normal(
            (n_fixed, nz)).astype(np.float32)
        self.fixed_labels = (np.repeat(np.arange(num_classes), -(-n_fixed // num_classes))[:n_fixed]
                             if num_classes else None)

    def _to_device(self, a: np.ndarray) -> Any:
        return to_device(a, self.device)

    def _noise(self, rng: np.random.Generator, n: int) -> Any:
        return self._to_device(rng.standard_normal((n, self.nz)).astype(np.float32))

    def place(self, batch: tuple) -> tuple:
        """(images or points on the device, host labels or None)."""
        return self._to_device(batch[0]), (batch[1] if self.num_classes else None)

    def d_loss(self, G: nn.Module, D: nn.Module, loss: GANLoss, batch: tuple,
               rng: np.random.Generator) -> tuple[Tensor, dict[str, Any]]:
        x, y = batch
        with no_grad():
            fake = G(self._noise(rng, len(x)), y).data
        x, fake = pack_samples(x, self.pack), pack_samples(fake, self.pack)
        real_out, fake_out = D(x, y), D(fake, y)
        loss_d = loss.d_loss(real_out, fake_out, lambda t: D(t, y), x, fake, rng)
        return loss_d, {"d_real": loss.mean_output(real_out), "d_fake": loss.mean_output(fake_out)}

    def g_loss(self, G: nn.Module, D: nn.Module, loss: GANLoss, batch: tuple,
               rng: np.random.Generator) -> tuple[Tensor, dict[str, Any]]:
        y = rng.integers(0, self.num_classes, self.batch_size) if self.num_classes else None
        fake = pack_samples(G(self._noise(rng, self.batch_size), y), self.pack)
        return loss.g_term(D(fake, y)), {}

    def draw_inputs(self, rng: np.random.Generator, n: int) -> tuple:
        z = self._noise(rng, n)
        return z, (rng.integers(0, self.num_classes, n) if self.num_classes else None)

    def generator_args(self, z: np.ndarray, labels: np.ndarray | None = None) -> tuple:
        return self._to_device(z), labels

    def save_samples(self, generate: Callable[..., np.ndarray], path: Path, title: str) -> None:
        """A 10-wide grid of images (rows are classes when conditional), or a scatter plot
        of points over the mixture's centres."""
        samples = generate(self.fixed_z, self.fixed_labels)
        if self.dataset.kind == "image":
            viz.save_image_grid(samples, path, nrow=10, title=title)
        else:
            viz.plot_points(samples, path, centres=self.dataset.centres, title=title)
