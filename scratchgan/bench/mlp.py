"""The PacGAN MLP training step (the ``mlp`` section): ours and the same step in PyTorch.

The models are PacGAN's sizes for 2-D data (``scratchgan.gan.models``,
``build_models("mlp", (2,))``): G maps z (2) through 4 hidden layers of 400 units (Linear,
BatchNorm1d, ReLU) to a point (2); D maps a point through 3 hidden layers of 200 units
(Linear, LeakyReLU 0.2) to one logit. Batch 100, the non-saturating loss, Adam(2e-4,
betas 0.5, 0.999), n_critic 1.

Ours: ``Trainer.train_step`` of the trainer that ``build_trainer`` makes for
``model = "mlp"`` (it calls ``build_models("mlp", (2,), 0)`` and keeps the layers' default
initialisation), with EMA off and, as the data set, one fixed random batch of points, the
same two changes as the DCGAN step of ``steps.ours_step``.

PyTorch: the same architecture in ``torch.nn`` with ``torch.nn``'s default initialisation
(Linear: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); BatchNorm: weight 1, bias 0, which is
what our layers draw too), default ``torch.optim.Adam``, and the step structure of
``steps.torch_step``: z drawn inside the step, the fake batch of the D update made under
``no_grad``, D frozen in the G update, ``loss.item()`` read once per update.

FLOPs (same 3x convention as the DCGAN step, multiply-adds x 2 of the linear layers):
4 F_G + 9 F_D per step.
"""
from __future__ import annotations

import os
import tempfile
from typing import Any, Callable

import numpy as np

MLP_BATCH = 100
NZ, DIM = 2, 2
G_HIDDEN, G_DEPTH = 400, 4
D_HIDDEN, D_DEPTH = 200, 3


def _macs(widths: list[int]) -> int:
    return sum(a * b for a, b in zip(widths, widths[1:]))


def mlp_step_flops(batch: int) -> int:
    """Analytic FLOPs of one MLP step: 2 x multiply-adds x (4 F_G + 9 F_D)."""
    f_g = _macs([NZ] + [G_HIDDEN] * G_DEPTH + [DIM])
    f_d = _macs([DIM] + [D_HIDDEN] * D_DEPTH + [1])
    return 2 * batch * (4 * f_g + 9 * f_d)


def ours_mlp_step(batch: int, backend: str, seed: int = 0) -> Callable[[], Any]:
    """``Trainer.train_step`` of the PacGAN MLP on ``backend`` (see the module docstring)."""
    from scratchgan.data import Dataset
    from scratchgan.gan.build import build_trainer
    from scratchgan.gan.config import TrainConfig
    real = np.random.default_rng(seed + 1).standard_normal((batch, DIM)).astype(np.float32)
    fixed_batch = Dataset(name="random points", data=real, labels=None, num_classes=0,
                          kind="points")
    config = TrainConfig(dataset="ring8", model="mlp", loss="nonsaturating", batch_size=batch,
                         lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, n_critic=1, ema=0.0,
                         progress=False, seed=seed, kernels=backend,
                         log_every=10 ** 9, steps=10 ** 9,
                         out=os.path.join(tempfile.gettempdir(), "scratchgan-bench-unused"))
    return build_trainer(config, dataset=fixed_batch).train_step


def torch_mlp_models(torch: Any) -> tuple[Any, Any]:
    """The PacGAN MLP G and D in torch.nn, default initialisation."""
    nn = torch.nn
    g_layers: list[Any] = []
    width = NZ
    for _ in range(G_DEPTH):
        g_layers += [nn.Linear(width, G_HIDDEN), nn.BatchNorm1d(G_HIDDEN), nn.ReLU()]
        width = G_HIDDEN
    g_layers.append(nn.Linear(width, DIM))
    d_layers: list[Any] = []
    width = DIM
    for _ in range(D_DEPTH):
        d_layers += [nn.Linear(width, D_HIDDEN), nn.LeakyReLU(0.2)]
        width = D_HIDDEN
    d_layers.append(nn.Linear(width, 1))
    return nn.Sequential(*g_layers), nn.Sequential(*d_layers)


def torch_mlp_step(torch: Any, batch: int, seed: int = 0) -> Callable[[], Any]:
    """One PyTorch step equivalent to ``ours_mlp_step`` (see the module docstring): the
    MLPs in ``steps.torch_gan_step``, the DCGAN comparison's step."""
    from scratchgan.bench.steps import torch_gan_step
    torch.manual_seed(seed)
    G, D = torch_mlp_models(torch)
    return torch_gan_step(torch, G, D, torch.randn(batch, DIM), NZ)
