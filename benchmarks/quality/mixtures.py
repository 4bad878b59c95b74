"""PacGAN's 2-D mixture benchmark: modes captured and % high-quality samples.

    python benchmarks/quality/mixtures.py [--datasets ring8 grid25]
        [--losses nonsaturating hinge wgan-gp] [--seeds 0 1 2 3 4] [--steps N]
        [--jobs 2] [--json out.json]

For each (dataset, loss, seed): train the MLP GAN (G: 4 x 400 BN ReLU, noise 2-d;
D: 3 x 200 LeakyReLU) with ``scratchgan``'s trainer and the loss's recipe below, draw
2500 samples from G (eval mode), and count the modes captured and the fraction of
samples within 3 std of their nearest mode (``scratchgan.gan.metrics``). Prints one row
per run and the mean / min over seeds. Runs go to ``--jobs`` worker processes (one
BLAS thread each).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time

import numpy as np

from scratchgan.gan.config import TrainConfig
from scratchgan.gan.evaluate import MIXTURES
from scratchgan.gan.metrics import mode_statistics
from scratchgan.gan.build import build_trainer

#: TrainConfig values per loss, beyond the shared ones (batch 100, no EMA, linear
#: learning-rate decay over the second half of the steps)
RECIPES = {
    "nonsaturating": {"lr_g": 5e-4, "lr_d": 5e-4, "beta1": 0.5, "beta2": 0.999},
    "hinge": {"lr_g": 5e-4, "lr_d": 5e-4, "beta1": 0.5, "beta2": 0.999},
    "wgan-gp": {"lr_g": 1e-4, "lr_d": 1e-4, "beta1": 0.5, "beta2": 0.9, "n_critic": 5},
}
#: generator updates per run: WGAN-GP's five critic updates per step make 4000 steps cost
#: about what 10000 cost the others
STEPS = {"nonsaturating": 10000, "hinge": 10000, "wgan-gp": 4000}
SHARED = {"batch_size": 100, "ema": 0.0, "lr_decay": "linear", "progress": False}
N_SAMPLES = 2500


def run_one(job: tuple[str, str, int, int]) -> dict:
    dataset, loss, seed, steps = job
    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig(dataset=dataset, loss=loss, seed=seed, steps=steps, out=out,
                             **SHARED, **RECIPES[loss])
        trainer = build_trainer(config)
        start = time.perf_counter()
        for _ in range(steps):
            trainer.train_step()
        seconds = time.perf_counter() - start
        z = np.random.default_rng([seed, 99]).standard_normal((N_SAMPLES, trainer.task.nz))
        stats = mode_statistics(trainer.generate(z.astype(np.float32)), *MIXTURES[dataset])
    return {"dataset": dataset, "loss": loss, "seed": seed, "steps": steps,
            "modes": stats.modes_captured, "num_modes": stats.num_modes,
            "high_quality": stats.high_quality_fraction, "reverse_kl": stats.reverse_kl,
            "seconds": seconds}


def _one_thread_per_worker() -> None:
    """Workers inherit the environment at spawn: one BLAS thread each."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(MIXTURES), choices=list(MIXTURES))
    parser.add_argument("--losses", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, help="generator updates per run (default: per "
                        "loss, " + ", ".join(f"{k} {v}" for k, v in STEPS.items()) + ")")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args(argv)
    jobs = [(d, loss, seed, args.steps or STEPS[loss]) for d in args.datasets for loss in args.losses
            for seed in args.seeds]
    print(f"{'dataset':<8} {'loss':<14} {'seed':>4} {'modes':>7} {'HQ %':>6} {'rev KL':>7} {'s':>6}")
    rows = []
    _one_thread_per_worker()
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        for row in pool.imap(run_one, jobs):
            rows.append(row)
            print(f"{row['dataset']:<8} {row['loss']:<14} {row['seed']:>4} "
                  f"{row['modes']:>3}/{row['num_modes']:<3} {100 * row['high_quality']:>6.1f} "
                  f"{row['reverse_kl']:>7.3f} {row['seconds']:>6.1f}", flush=True)
    print()
    print("| dataset | loss | modes: mean (min) | % high quality: mean (min) |")
    print("|---|---|---|---|")
    for dataset in args.datasets:
        for loss in args.losses:
            group = [r for r in rows if r["dataset"] == dataset and r["loss"] == loss]
            modes = [r["modes"] for r in group]
            hq = [100 * r["high_quality"] for r in group]
            print(f"| {dataset} | {loss} | {np.mean(modes):.1f} ({min(modes)}) | "
                  f"{np.mean(hq):.1f} ({min(hq):.1f}) |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
