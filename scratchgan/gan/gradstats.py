"""Gradient statistics a run logs at its log steps (``log_every``), besides the per-layer
gradient norms (``trainer.layer_grad_norms``):

    update_ratio/<G|D>/<param>   ||W_after - W_before|| / ||W_before|| of the optimiser step
                                 (the last D step of the step's n_critic; a weight whose norm
                                 is 0 before the step, e.g. a zero-initialised bias at step 1,
                                 has no entry). Around 1e-3 is the usual healthy range; 1e-1
                                 and above means the step rewrites the layer.
    d_input_grad/real, /fake     D's gradient with respect to its input, ||dD/dx_i||_2 averaged
                                 over the batch, at the real and generated points of the last
                                 D update (the points a penalty would use: for pix2pix the
                                 output half of the pair), with D as it scored them

All of it is computed only at log steps; between them a step does nothing more than before.
Nothing the run keeps changes: the input gradients are taken with D's weights frozen (no
parameter gradient is computed, none is touched), D's buffers (batch-norm running
statistics, spectral norm's u and v) are put back as they were after the extra forward
passes, and any random draw of D's comes from a throwaway generator. A resumed run stays
exact, and a run logs the same losses whatever its ``log_every``.

dD/dx is the gradient of the batch's summed output (a map of patch scores is summed too),
as the gradient penalties compute it; with batch norm in D (train mode) the samples of a
batch are coupled, so it is the gradient of that batch's D, not of one sample alone.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import numpy as np

from scratchgan import functions as F
from scratchgan import nn
from scratchgan import random as sg_random
from scratchgan.autograd import Tensor, grad
from scratchgan.backend import get_array_module, to_numpy

__all__ = ["weight_snapshot", "update_ratios", "input_grad_norms", "RecordingLoss"]


def weight_snapshot(module: nn.Module) -> list[tuple[str, Any, Any]]:
    """(name, the parameter's live array, a copy of it) for every trainable parameter,
    taken before an optimiser step."""
    return [(name, p.data, p.data.copy()) for name, p in module.named_parameters()
            if p.requires_grad]


def update_ratios(snapshot: list[tuple[str, Any, Any]], prefix: str) -> dict[str, float]:
    """{"update_ratio/<prefix>/<name>": ||W - W_before|| / ||W_before||} after the step that
    followed ``snapshot`` (in float64, one host copy for all); a weight with norm 0 before
    the step is left out (its ratio has no finite value)."""
    if not snapshot:
        return {}
    xp = get_array_module(snapshot[0][1])
    sums = xp.stack([xp.stack([xp.sum(xp.square(now - before, dtype=xp.float64)),
                               xp.sum(xp.square(before, dtype=xp.float64))])
                     for _, now, before in snapshot])
    sums = to_numpy(sums)
    return {f"update_ratio/{prefix}/{name}": float(np.sqrt(step / weight))
            for (name, _, _), (step, weight) in zip(snapshot, sums) if weight > 0}


@contextlib.contextmanager
def _buffers_kept(module: nn.Module) -> Iterator[None]:
    """Put every buffer of ``module`` back, in place, as it was on entry."""
    saved = [(m, name, b.copy()) for m in module.modules() for name, b in m._buffers.items()
             if b is not None]
    try:
        yield
    finally:
        for m, name, b in saved:
            now = m._buffers.get(name)
            if now is not None and now.shape == b.shape and now.dtype == b.dtype:
                now[...] = b
            else:
                m._buffers[name] = b


def _mean_input_grad_norm(critic: Callable[[Tensor], Tensor], points: Any) -> Any:
    x = Tensor(points, requires_grad=True)
    (g,) = grad(F.sum(critic(x)), x, materialize_grads=True)
    xp = get_array_module(g.data)
    g64 = g.data.reshape(len(g.data), -1).astype(xp.float64)
    return xp.mean(xp.sqrt(xp.sum(g64 * g64, axis=1)))


def input_grad_norms(D: nn.Module, critic: Callable[[Tensor], Tensor], real: Any,
                     fake: Any) -> dict[str, float]:
    """{"d_input_grad/real": mean_i ||dD/dx_i||, "d_input_grad/fake": ...} at ``real`` and
    ``fake`` (arrays; ``critic`` maps a Tensor of such points to D's output), leaving D, its
    parameters' gradients and every generator as they were."""
    params = [p for p in D.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad = False
    try:
        with _buffers_kept(D), sg_random.drawing_from(np.random.default_rng(0)):
            norms = [_mean_input_grad_norm(critic, points) for points in (real, fake)]
    finally:
        for p in params:
            p.requires_grad = True
    xp = get_array_module(norms[0])
    real_norm, fake_norm = (float(v) for v in to_numpy(xp.stack(norms)))
    return {"d_input_grad/real": real_norm, "d_input_grad/fake": fake_norm}


class RecordingLoss:
    """A loss that remembers what the last ``d_loss`` call received (D as a function of its
    input, the real and the generated points), so the trainer can probe D there without
    asking the task how it feeds D; everything else is the wrapped loss's."""

    def __init__(self, loss: Any) -> None:
        self.loss = loss
        self.seen: tuple[Callable[[Tensor], Tensor], Any, Any] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loss, name)

    def d_loss(self, real_out: Tensor, fake_out: Tensor, critic: Callable[[Tensor], Tensor],
               real: Any, fake: Any, rng: np.random.Generator) -> Tensor:
        self.seen = (critic, real, fake)
        return self.loss.d_loss(real_out, fake_out, critic, real, fake, rng)
