"""PacGAN's 2-D mixture benchmark: modes captured and % high-quality samples, per recipe.

    python benchmarks/quality/mixtures.py RECIPE.toml [RECIPE.toml ...]
        [--seeds 0 1 2 3 4] [--steps N] [--set KEY=VALUE ...] [--jobs 2] [--json out.json]

A recipe is a ``scratchgan train --config`` file (``benchmarks/quality/*.toml``: the
dataset, ring8 or grid25, the loss, the rates, packing, ...). For each (recipe, seed) this
trains exactly what ``scratchgan train --config RECIPE --seed S`` trains and scores G
exactly as that run's last ``eval.jsonl`` line does (``--set key=value``: as
``--key value`` on that command line) (``eval_n`` samples of G in eval
mode, noise seed 0, ``scratchgan.gan.metrics.mode_statistics``), without writing a run
folder. Prints one row per run, then the mean / min over seeds per recipe. Runs go to
``--jobs`` worker processes, one thread each.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import numpy as np

from scratchgan.gan.build import build_trainer
from scratchgan.gan.config import make_config
from scratchgan.gan.evaluate import MIXTURES, evaluate_generator


def parse_setting(text: str) -> tuple[str, object]:
    """``key=value`` with a TOML value (``pack=2``, ``loss="hinge"`` or ``loss=hinge``)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"--set {text!r}: expected KEY=VALUE")
    try:
        return key.strip(), tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return key.strip(), value          # a bare word: a string


def run_one(job: tuple[str, int, int | None, dict]) -> dict:
    """Train ``recipe`` with ``seed`` (and ``steps`` and the ``settings`` when given) and
    score it."""
    recipe, seed, steps, settings = job
    with tempfile.TemporaryDirectory() as out:
        config = make_config(recipe, **{**settings, "seed": seed, "steps": steps, "out": out,
                                        "progress": False, "threads": 1})
        if config.dataset not in MIXTURES:
            raise ValueError(f"{recipe}: dataset {config.dataset!r} is not a 2-D mixture "
                             f"({', '.join(MIXTURES)})")
        trainer = build_trainer(config)
        start = time.perf_counter()
        with trainer.scope():
            while trainer.step < config.steps:
                trainer.train_step()
        seconds = time.perf_counter() - start
        stats = evaluate_generator(trainer.generate, config.dataset, config.eval_n,
                                   trainer.task.nz)
    command = f"scratchgan train --config {recipe} --seed {seed}" + (
        f" --steps {steps}" if steps else "") + "".join(
        f" --{k.replace('_', '-')} {v}" for k, v in settings.items())
    name = Path(recipe).stem + "".join(f" {k}={v}" for k, v in settings.items())
    return {"recipe": name, "dataset": config.dataset, "loss": config.loss,
            "seed": seed, "steps": config.steps, "modes": stats["modes_captured"],
            "num_modes": stats["num_modes"], "high_quality": stats["high_quality_fraction"],
            "reverse_kl": stats["reverse_kl"], "seconds": seconds, "command": command}


def _one_thread_per_worker() -> None:
    """Workers inherit the environment at spawn: one BLAS thread each."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"


def summary(rows: list[dict]) -> str:
    """The markdown table of QUALITY.md: per recipe, the seeds' modes and % HQ, their
    means and minima."""
    lines = ["| recipe | modes, by seed | % HQ, by seed | modes: mean (min) | % HQ: mean (min) |",
             "| --- | --- | --- | ---: | ---: |"]
    for recipe in dict.fromkeys(r["recipe"] for r in rows):
        group = [r for r in rows if r["recipe"] == recipe]
        modes = [r["modes"] for r in group]
        hq = [100 * r["high_quality"] for r in group]
        lines.append(f"| {recipe} | {', '.join(map(str, modes))} | "
                     f"{', '.join(f'{v:.1f}' for v in hq)} | {np.mean(modes):.1f} ({min(modes)}) "
                     f"| {np.mean(hq):.1f} ({min(hq):.1f}) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="+", help="scratchgan train --config files")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, help="generator updates per run (default: the "
                        "recipe's)")
    parser.add_argument("--set", dest="settings", action="append", type=parse_setting,
                        default=[], metavar="KEY=VALUE", help="override a recipe's key")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args(argv)
    settings = dict(args.settings)
    for recipe in args.recipes:
        make_config(recipe, **settings)   # a bad recipe or key is named before any run starts
    jobs = [(recipe, seed, args.steps, settings) for recipe in args.recipes
            for seed in args.seeds]
    print(f"{'recipe':<40} {'seed':>4} {'modes':>7} {'HQ %':>6} {'rev KL':>7} {'s':>6}")
    rows = []
    _one_thread_per_worker()
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        for row in pool.imap(run_one, jobs):
            rows.append(row)
            print(f"{row['recipe']:<40} {row['seed']:>4} {row['modes']:>3}/{row['num_modes']:<3} "
                  f"{100 * row['high_quality']:>6.1f} {row['reverse_kl']:>7.3f} "
                  f"{row['seconds']:>6.1f}", flush=True)
    print()
    print(summary(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
