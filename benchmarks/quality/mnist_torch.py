"""The PyTorch reference for the MNIST quality runs: the DCGAN-28 of
``../shared/reference/dcgan_torch.py`` (imported from there, not copied) trained on
MNIST with the numbers of a scratchgan recipe, so the two libraries differ only in their
code.

    python benchmarks/quality/mnist_torch.py --recipe benchmarks/quality/mnist-dcgan.toml \
        --data-dir ../shared/data --out runs/quality-mnist/pytorch [--reference-dir DIR]

From the recipe (a ``scratchgan train --config`` file) it takes the widths ``ngf`` and
``ndf``, ``steps``, ``batch_size``, the rates ``lr_g`` and ``lr_d``, Adam's betas,
``lr_decay`` (none, or linear to 0 over the second half), the EMA decay, the seed and
``eval_every``; it refuses a recipe with any other loss than non-saturating or with
conditioning or packing. The rest is scratchgan's recipe as well: batches shuffled with
the last partial batch dropped, DCGAN initialisation (weights N(0, 0.02), batch-norm
weights N(1, 0.02), biases 0), an EMA of G's weights with decay min(d, (1 + t) / (10 + t))
whose batch-norm statistics are estimated for its own weights before it samples
(standing statistics over 10 batches, like ``scratchgan.gan.ema``). Every ``eval_every``
steps and at the last it writes ``samples-<step>.npz`` (``images``: the EMA generator's
samples, float32 (n, 1, 28, 28) in [-1, 1]; ``eval_n`` of them, ``--n`` at the last
step), and ``final_grid.png`` (10 x 10). Needs torch and scratchgan (for the MNIST loader,
the recipe reader and the grid).
"""
from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from scratchgan import viz
from scratchgan.data import load_dataset
from scratchgan.gan.config import TrainConfig, make_config

#: batches of noise that estimate the EMA generator's batch-norm statistics
STATISTICS_BATCHES = 10


def dcgan_init(module: torch.nn.Module) -> None:
    if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
        torch.nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
        torch.nn.init.normal_(module.weight, 1.0, 0.02)
    else:
        return
    if module.bias is not None:
        torch.nn.init.zeros_(module.bias)


@torch.no_grad()
def update_ema(ema: torch.nn.Module, G: torch.nn.Module, step: int, decay: float) -> None:
    d = min(decay, (1 + step) / (10 + step))
    for e, p in zip(ema.parameters(), G.parameters()):
        e.mul_(d).add_(p, alpha=1 - d)


@torch.no_grad()
def standing_statistics(G: torch.nn.Module, batch_size: int, seed: int, step: int) -> None:
    """G's batch-norm statistics set to the plain average over STATISTICS_BATCHES batches
    (momentum None: PyTorch's cumulative average), then G in eval mode."""
    layers = [m for m in G.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None
    G.train()
    gen = torch.Generator().manual_seed(seed * 1_000_003 + step)
    for _ in range(STATISTICS_BATCHES):
        G(torch.randn(batch_size, G.fc.in_features, generator=gen))
    for m in layers:
        m.momentum = 0.1
    G.eval()


def check_recipe(c: TrainConfig) -> None:
    """What this script reproduces of a recipe; a SystemExit naming any other key."""
    unsupported = [f"{key} = {getattr(c, key)!r}" for key, value in
                   (("dataset", "mnist"), ("loss", "nonsaturating"), ("conditional", False),
                    ("pack", 1), ("minibatch_std", False), ("n_critic", 1),
                    ("optimizer", "adam"), ("label_smoothing", 0.0), ("r1_weight", 0.0),
                    ("spectral_norm", False), ("nz", 0), ("model", "auto"))
                   if getattr(c, key) != value]
    if unsupported:
        raise SystemExit(f"mnist_torch.py reproduces the non-saturating DCGAN recipe; this "
                         f"recipe has {', '.join(unsupported)}")
    if c.ema <= 0:
        raise SystemExit("mnist_torch.py samples an EMA generator: the recipe needs ema > 0")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", required=True, help="a scratchgan train --config file")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--steps", type=int, help="override the recipe's steps")
    parser.add_argument("--n", type=int, default=10000, help="samples at the last step")
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=1, help="torch's CPU threads")
    parser.add_argument("--reference-dir", default=str(Path(__file__).resolve().parents[3]
                                                        / "shared" / "reference"))
    args = parser.parse_args(argv)
    c = make_config(args.recipe, steps=args.steps)
    check_recipe(c)
    sys.path.insert(0, args.reference_dir)
    from dcgan_torch import Discriminator, Generator  # the reference architecture
    torch.set_num_threads(args.threads)  # after the import, which sets its own count

    torch.manual_seed(c.seed)
    rng = np.random.default_rng(c.seed)
    data = torch.from_numpy(load_dataset("mnist", "train", data_dir=args.data_dir).data)
    G, D = Generator(ngf=c.ngf), Discriminator(ndf=c.ndf)
    G.apply(dcgan_init)
    D.apply(dcgan_init)
    G_ema = copy.deepcopy(G)
    opt_g = torch.optim.Adam(G.parameters(), lr=c.lr_g, betas=(c.beta1, c.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=c.lr_d, betas=(c.beta1, c.beta2))
    half = c.steps // 2
    decay = ((lambda t: 1.0 if t < half else (c.steps - t) / (c.steps - half))
             if c.lr_decay == "linear" else (lambda t: 1.0))
    schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, decay) for opt in (opt_g, opt_d)]
    per_epoch = len(data) // c.batch_size
    order, start = rng.permutation(len(data)), time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for step in range(c.steps):
        if step % per_epoch == 0 and step:
            order = rng.permutation(len(data))
        i = step % per_epoch
        real = data[order[i * c.batch_size:(i + 1) * c.batch_size]]
        fake = G(torch.randn(c.batch_size, 100)).detach()
        real_out, fake_out = D(real), D(fake)
        loss_d = (F.binary_cross_entropy_with_logits(real_out, torch.ones_like(real_out))
                  + F.binary_cross_entropy_with_logits(fake_out, torch.zeros_like(fake_out)))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        out_g = D(G(torch.randn(c.batch_size, 100)))
        loss_g = F.binary_cross_entropy_with_logits(out_g, torch.ones_like(out_g))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        update_ema(G_ema, G, step, c.ema)
        for scheduler in schedulers:
            scheduler.step()
        t = step + 1
        if t % 250 == 0:
            print(f"step {t}: loss_d {loss_d.item():.3f} loss_g {loss_g.item():.3f} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
        if (c.eval_every and t % c.eval_every == 0) or t == c.steps:
            n = args.n if t == c.steps else c.eval_n
            standing_statistics(G_ema, c.batch_size, c.seed, t)
            with torch.no_grad():
                z = torch.from_numpy(np.random.default_rng([c.seed, 7, t]).standard_normal(
                    (n, 100)).astype(np.float32))
                images = torch.cat([G_ema(part) for part in z.split(500)]).numpy()
            np.savez(out / f"samples-{t:07d}.npz", images=images, steps=t,
                     seconds=time.perf_counter() - start)
    viz.save_image_grid(images[:100], out / "final_grid.png", nrow=10,
                        title=f"PyTorch reference, step {c.steps}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
