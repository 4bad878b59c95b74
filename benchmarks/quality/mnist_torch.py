"""The PyTorch reference for the MNIST quality runs: the DCGAN-28 of
``../shared/reference/dcgan_torch.py`` (imported from there, not copied) trained on
MNIST with scratchgan's default recipe, so the two libraries differ only in their code.

    python benchmarks/quality/mnist_torch.py --data-dir ../shared/data --steps 2000 \
        --out runs/quality-mnist/pytorch [--reference-dir ../shared/reference]

The recipe, as ``scratchgan train``'s defaults: batch 64 (shuffled, last partial batch
dropped), non-saturating loss, Adam(2e-4, betas 0.5, 0.999) for G and D, DCGAN
initialisation (weights N(0, 0.02), batch-norm weights N(1, 0.02), biases 0), and an
EMA of G's weights with decay min(0.999, (1 + t) / (10 + t)) whose batch-norm buffers
follow G's. Writes ``samples.npz`` (``images``: n EMA samples, float32 (n, 1, 28, 28)
in [-1, 1]; ``steps``: the budget that made them) and ``final_grid.png`` (10 x 10).
Needs torch and scratchgan (for the MNIST loader and the grid).
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
def update_ema(ema: torch.nn.Module, G: torch.nn.Module, step: int, decay: float = 0.999) -> None:
    d = min(decay, (1 + step) / (10 + step))
    for e, p in zip(ema.parameters(), G.parameters()):
        e.mul_(d).add_(p, alpha=1 - d)
    for e, b in zip(ema.buffers(), G.buffers()):
        e.copy_(b)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=10000, help="samples to write")
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=1, help="torch's CPU threads")
    parser.add_argument("--reference-dir", default=str(Path(__file__).resolve().parents[3]
                                                        / "shared" / "reference"))
    args = parser.parse_args(argv)
    sys.path.insert(0, args.reference_dir)
    from dcgan_torch import Discriminator, Generator  # the reference architecture
    torch.set_num_threads(args.threads)  # after the import, which sets its own count

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    data = torch.from_numpy(load_dataset("mnist", "train", data_dir=args.data_dir).data)
    G, D = Generator(), Discriminator()
    G.apply(dcgan_init)
    D.apply(dcgan_init)
    G_ema = copy.deepcopy(G)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    per_epoch = len(data) // args.batch_size
    order, start = rng.permutation(len(data)), time.perf_counter()
    for step in range(args.steps):
        if step % per_epoch == 0 and step:
            order = rng.permutation(len(data))
        i = step % per_epoch
        real = data[order[i * args.batch_size:(i + 1) * args.batch_size]]
        fake = G(torch.randn(args.batch_size, 100)).detach()
        real_out, fake_out = D(real), D(fake)
        loss_d = (F.binary_cross_entropy_with_logits(real_out, torch.ones_like(real_out))
                  + F.binary_cross_entropy_with_logits(fake_out, torch.zeros_like(fake_out)))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        out = D(G(torch.randn(args.batch_size, 100)))
        loss_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        update_ema(G_ema, G, step)
        if (step + 1) % 250 == 0:
            print(f"step {step + 1}: loss_d {loss_d.item():.3f} loss_g {loss_g.item():.3f} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)

    G_ema.eval()
    with torch.no_grad():
        z = torch.from_numpy(np.random.default_rng([args.seed, 7]).standard_normal(
            (args.n, 100)).astype(np.float32))
        images = torch.cat([G_ema(part) for part in z.split(500)]).numpy()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "samples.npz", images=images, steps=args.steps)
    viz.save_image_grid(images[:100], out / "final_grid.png", nrow=10,
                        title=f"PyTorch reference, step {args.steps}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
