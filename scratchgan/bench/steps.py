"""The training steps measured: ours (``Trainer.train_step``) and an equivalent PyTorch step.

Ours: ``build_trainer(TrainConfig(...))`` with the DCGAN-28 model, Adam(lr 2e-4, betas 0.5,
0.999), n_critic 1, and ``train_step()`` as training runs it, with two changes that make it
the same work as the PyTorch step: no EMA of G (``ema=0``; PyTorch keeps none) and, as
the data set, one fixed random batch (PyTorch's real batch is a fixed random one too; the
trainer's loader still shuffles and gathers it every step, a few microseconds), so no
embedded data set is loaded or counted in the memory numbers.

PyTorch: the same architecture and optimizer written with ``torch.nn`` (DCGAN
initialisation, default Adam), z drawn inside the step, the fake batch of the D update
made under ``no_grad`` and D's parameters frozen in the G update, as our trainer does;
``loss.item()`` read once per update, as our trainer does to check for NaN on CPU.

On the GPU (``device="cuda"``) ours is the same trainer with ``device="cuda"``: its losses
stay on the device and are read back only at log steps (set far apart here, so no step of
the measurement waits for the GPU), and the PyTorch step correspondingly keeps its losses
as device tensors instead of calling ``.item()``; the timing synchronises the device around
every timed repeat, so both are charged for all the GPU work they queue.

    "step"     non-saturating loss: L_D = BCE(D(x), 1) + BCE(D(G(z)), 0), L_G = BCE(D(G(z')), 1)
    "wgan-gp"  critic without batch norm (conv 2 gets its bias back), L_D = E D(G(z)) - E D(x)
               + 10 E[(||grad D(x_hat)|| - 1)^2] on random interpolates x_hat (the gradient
               taken with create_graph=True, so the D update runs a double backward),
               L_G = -E D(G(z')); one D and one G update
"""
from __future__ import annotations

import os
import tempfile
from typing import Any, Callable

import numpy as np

from scratchgan.backend import CPU, as_device
from scratchgan.bench.flops import NDF, NGF, NZ
from scratchgan.bench.timing import TORCH_DEVICE

LOSS_OF_SECTION = {"step": "nonsaturating", "wgan-gp": "wgan-gp"}


def ours_step(section: str, batch: int, backend: str, seed: int = 0,
              device: str = CPU.name) -> Callable[[], Any]:
    """``Trainer.train_step`` of a DCGAN-28 trainer on the ``backend`` kernels (CPU) or on
    the GPU (``device="cuda"``, backend "cuda"), its data set one fixed random batch (the
    trainer's loader still draws every batch from it)."""
    from scratchgan.data import Dataset
    from scratchgan.gan.build import build_trainer
    from scratchgan.gan.config import TrainConfig
    real = np.random.default_rng(seed + 1).standard_normal((batch, 1, 28, 28)).astype(np.float32)
    fixed_batch = Dataset(name="random batch", data=real, labels=None, num_classes=0, kind="image")
    config = TrainConfig(dataset="digits", model="dcgan", loss=LOSS_OF_SECTION[section],
                         batch_size=batch, ngf=64, ndf=64, lr_g=2e-4, lr_d=2e-4, beta1=0.5,
                         beta2=0.999, lr_decay="none",
                         n_critic=1, ema=0.0, progress=False, seed=seed, device=device,
                         kernels="default" if as_device(device).is_gpu else backend,
                         log_every=10 ** 9, steps=10 ** 9,   # no metric read inside the timing
                         out=os.path.join(tempfile.gettempdir(), "scratchgan-bench-unused"))
    # writes nothing (only Run touches ``out``); train_step applies the kernel backend itself
    return build_trainer(config, dataset=fixed_batch).train_step


def torch_models(torch: Any, batchnorm_in_d: bool = True) -> tuple[Any, Any]:
    """DCGAN-28 (``scratchgan.gan.models``) in torch.nn, with the DCGAN initialisation."""
    nn = torch.nn
    G = nn.Sequential(
        nn.Linear(NZ, 4 * NGF * 49, bias=False), nn.BatchNorm1d(4 * NGF * 49), nn.ReLU(),
        nn.Unflatten(1, (4 * NGF, 7, 7)),
        nn.ConvTranspose2d(4 * NGF, 2 * NGF, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * NGF),
        nn.ReLU(),
        nn.ConvTranspose2d(2 * NGF, NGF, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF), nn.ReLU(),
        nn.Conv2d(NGF, 1, 3, 1, 1), nn.Tanh())
    d_layers = [nn.Conv2d(1, NDF, 4, 2, 1), nn.LeakyReLU(0.2),
                nn.Conv2d(NDF, 2 * NDF, 4, 2, 1, bias=not batchnorm_in_d)]
    if batchnorm_in_d:
        d_layers.append(nn.BatchNorm2d(2 * NDF))
    d_layers += [nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(2 * NDF * 49, 1)]
    D = nn.Sequential(*d_layers)

    def init(m: Any) -> None:
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
        else:
            return
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    G.apply(init)
    D.apply(init)
    return G, D


def torch_step(torch: Any, section: str, batch: int, channels_last: bool = False,
               seed: int = 0, device: str = CPU.name) -> Callable[[], Any]:
    """One PyTorch training step equivalent to ``ours_step`` (see the module docstring)."""
    torch.manual_seed(seed)
    wgan = section == "wgan-gp"
    G, D = torch_models(torch, batchnorm_in_d=not wgan)
    G, D = G.to(TORCH_DEVICE[device]), D.to(TORCH_DEVICE[device])
    real = torch.randn(batch, 1, 28, 28, device=TORCH_DEVICE[device])
    if channels_last:
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
        real = real.contiguous(memory_format=torch.channels_last)
    return torch_gan_step(torch, G, D, real, NZ, wgan, device)


def torch_gan_step(torch: Any, G: Any, D: Any, real: Any, nz: int, wgan: bool = False,
                   device: str = CPU.name) -> Callable[[], Any]:
    """The PyTorch step of every comparison, for built G and D and a fixed real batch:
    Adam(2e-4, (0.5, 0.999)) for both; a D update on the real batch and a fake one made
    under ``no_grad`` (non-saturating BCE, or for ``wgan`` the critic loss plus 10 x the
    gradient penalty on random interpolates), then a G update with D frozen; the losses
    read once per update (host floats on CPU; device tensors on the GPU, no sync)."""
    F = torch.nn.functional
    batch = real.shape[0]
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_params = list(D.parameters())
    on = TORCH_DEVICE[device]
    ones, zeros = torch.ones(batch, 1, device=on), torch.zeros(batch, 1, device=on)

    def value(loss: Any) -> Any:
        return loss.detach() if as_device(device).is_gpu else loss.item()

    def d_loss(fake: Any) -> Any:
        if not wgan:
            return (F.binary_cross_entropy_with_logits(D(real), ones)
                    + F.binary_cross_entropy_with_logits(D(fake), zeros))
        loss = D(fake).mean() - D(real).mean()
        u = torch.rand((batch,) + (1,) * (real.ndim - 1), device=device)
        x_hat = (u * real + (1 - u) * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
        norms = torch.sqrt(g.flatten(1).pow(2).sum(1) + 1e-12)
        return loss + 10.0 * (norms - 1.0).pow(2).mean()

    def step() -> tuple[Any, Any]:
        with torch.no_grad():
            fake = G(torch.randn(batch, nz, device=device))
        loss_d = d_loss(fake)
        value_d = value(loss_d)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        for p in d_params:
            p.requires_grad_(False)
        out = D(G(torch.randn(batch, nz, device=device)))
        loss_g = -out.mean() if wgan else F.binary_cross_entropy_with_logits(out, ones)
        value_g = value(loss_g)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for p in d_params:
            p.requires_grad_(True)
        return value_d, value_g

    return step
