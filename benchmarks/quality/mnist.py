"""MNIST quality runs: DCGAN-28 trained by scratchgan with three recipes at one step
budget, scored by ``scratchgan.gan.evaluate``, beside the reference architecture
trained in PyTorch with the same budget (``mnist_torch.py``).

    python benchmarks/quality/mnist.py --data-dir ../shared/data [--steps 2000]
        [--runs nonsaturating wgan-gp conditional] [--out runs/quality-mnist]
        [--torch-python PATH/TO/python-with-torch] [--json quality-mnist.json]

Each run lives in ``<out>/<name>/`` (a normal run folder: checkpoints, samples,
curves). A finished run is not trained again, and an interrupted one resumes, so the
command can be repeated; so are the scores, kept in each run's ``scores-<steps>.json``. Scoring: 10000 samples from the EMA generator against the
MNIST test set, through the MNIST classifier shipped with scratchgan (FD, IS,
classes covered, KID, precision/recall); the real-vs-real baseline (10000 train
images vs the test set) is scored the same way. ``--torch-python`` runs the PyTorch
reference in that interpreter (it needs torch and scratchgan installed); its samples
are scored by the same code.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np

from scratchgan import cli
from scratchgan.gan.checkpoint import list_checkpoints
from scratchgan.gan.evaluate import (evaluate, evaluate_real, image_metrics, image_reference,
                                     write_json_atomically)

#: the recipes: scratchgan train flags beyond the shared ones
RUNS = {
    "nonsaturating": ["--loss", "nonsaturating"],
    # WGAN-GP with Adam(1e-4, 0.5, 0.9) as Gulrajani et al.; n_critic 2 to fit the budget
    "wgan-gp": ["--loss", "wgan-gp", "--n-critic", "2", "--lr-g", "1e-4", "--lr-d", "1e-4",
                "--beta2", "0.9"],
    "conditional": ["--loss", "nonsaturating", "--conditional"],
}
N_SAMPLES = 10000


def train(name: str, args: argparse.Namespace) -> Path:
    """Train (or resume, or skip if done) run ``name``; returns its last checkpoint."""
    folder = Path(args.out) / name
    found = list_checkpoints(folder / "checkpoints")
    if not (found and found[-1][0] >= args.steps):
        argv = ["train", "--dataset", "mnist", "--data-dir", args.data_dir, "--out", str(folder),
                "--steps", str(args.steps), "--seed", str(args.seed), "--no-progress",
                "--checkpoint-every", "250", "--sample-every", "250", *RUNS[name]]
        if found:
            argv.append("--resume")
        print("scratchgan " + " ".join(argv), flush=True)
        if cli.main(argv) != 0:
            raise SystemExit(f"run {name} failed")
    return list_checkpoints(folder / "checkpoints")[-1][1]


def samples_steps(path: Path) -> int | None:
    """The step budget recorded in a samples file; None if there is none."""
    if not path.exists():
        return None
    with np.load(path) as f:
        return int(f["steps"]) if "steps" in f else None


def torch_reference(args: argparse.Namespace) -> Path:
    """Run mnist_torch.py in ``--torch-python`` unless samples of this step budget exist;
    returns them."""
    folder = Path(args.out) / "pytorch"
    samples = folder / "samples.npz"
    if samples_steps(samples) != args.steps:
        command = [args.torch_python, str(Path(__file__).with_name("mnist_torch.py")),
                   "--data-dir", args.data_dir, "--steps", str(args.steps), "--seed", str(args.seed),
                   "--out", str(folder), "--n", str(N_SAMPLES)]
        print(" ".join(command), flush=True)
        subprocess.run(command, check=True)
    return samples


def scored(path: Path, score: Callable[[], dict]) -> dict:
    """The scores kept in the JSON file ``path``, else ``score()``, then kept there."""
    if path.exists():
        return json.loads(path.read_text())
    result = score()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomically(path, result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="folder with the MNIST IDX files")
    parser.add_argument("--steps", type=int, default=2000, help="generator updates per run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    parser.add_argument("--out", default="runs/quality-mnist")
    parser.add_argument("--torch-python", help="a Python with torch, for the PyTorch reference")
    parser.add_argument("--json", help="write all results to this file")
    args = parser.parse_args(argv)

    results = {}
    for name in args.runs:
        results[name] = scored(Path(args.out) / name / f"scores-{args.steps}.json",
                               lambda: evaluate(train(name, args), N_SAMPLES, args.data_dir))
    if args.torch_python:
        def score_torch() -> dict:
            with np.load(torch_reference(args)) as f:
                return image_metrics(f["images"], image_reference("mnist", args.data_dir))
        results["pytorch"] = scored(Path(args.out) / "pytorch" / f"scores-{args.steps}.json",
                                    score_torch)
    results["real (train vs test)"] = scored(Path(args.out) / "real" / "scores.json",
                                             lambda: evaluate_real("mnist", N_SAMPLES,
                                                                   args.data_dir))

    keys = ("fd", "is_mean", "classes_covered", "min_class_share", "max_class_share", "kid_mean",
            "precision", "recall")
    print("| run | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name, r in results.items():
        print(f"| {name} | " + " | ".join(f"{r[k]:.4g}" for k in keys) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
