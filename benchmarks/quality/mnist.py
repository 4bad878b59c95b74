"""MNIST quality runs: scratchgan recipes (``scratchgan train --config`` files) trained
and scored by ``scratchgan.gan.evaluate``, each beside the reference architecture trained
in PyTorch with the same recipe file (``mnist_torch.py``).

    python benchmarks/quality/mnist.py --data-dir ../shared/data RECIPE.toml [...]
        [--out runs/quality-mnist] [--torch-python PATH/TO/python-with-torch]
        [--torch RECIPE.toml ...] [--json quality-mnist.json]

Each recipe's run lives in ``<out>/<recipe name>/`` (a normal run folder: checkpoints,
samples, curves, and ``eval.jsonl`` when the recipe sets ``eval_every``: FD, IS and the
class shares of ``eval_n`` samples every ``eval_every`` steps). A finished run is not
trained again, and an interrupted one resumes, so the command can be repeated; so are
the scores, kept in each run's ``scores-<steps>.json``. The final score: 10000 samples
from the EMA generator against the MNIST test set, through the MNIST classifier shipped
with scratchgan (FD, IS, classes covered, KID, precision/recall); the real-vs-real
baseline (10000 train images vs the test set) is scored the same way.

``--torch-python`` runs ``mnist_torch.py`` in that interpreter (it needs torch and
scratchgan installed) on each ``--torch`` recipe (default: every non-saturating one);
its samples at every ``eval_every`` step and at the end are scored by the same code.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

from scratchgan import cli
from scratchgan.gan.checkpoint import list_checkpoints
from scratchgan.gan.config import make_config
from scratchgan.gan.evaluate import (evaluate, evaluate_real, image_metrics, image_reference,
                                     write_json_atomically)

N_SAMPLES = 10000
#: what a curve point keeps of a score
CURVE_KEYS = ("fd", "is_mean", "min_class_share", "max_class_share")


def train(recipe: Path, folder: Path, data_dir: str) -> tuple[Path, float | None]:
    """Train (or resume, or skip if done) ``recipe`` in ``folder``; (its last checkpoint,
    the seconds this call trained, None when it was done already)."""
    steps = make_config(recipe).steps
    found = list_checkpoints(folder / "checkpoints")
    if found and found[-1][0] >= steps:
        return found[-1][1], None
    argv = ["train", "--config", str(recipe), "--data-dir", data_dir, "--out", str(folder),
            "--no-progress"] + (["--resume"] if found else [])
    print("scratchgan " + " ".join(argv), flush=True)
    start = time.perf_counter()
    if cli.main(argv) != 0:
        raise SystemExit(f"run {recipe} failed")
    return list_checkpoints(folder / "checkpoints")[-1][1], time.perf_counter() - start


def read_curve(folder: Path) -> list[dict]:
    """The run's eval.jsonl as curve points."""
    path = folder / "eval.jsonl"
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [{"step": r["step"], **{k: r[k] for k in CURVE_KEYS}} for r in rows]


def torch_run(recipe: Path, folder: Path, args: argparse.Namespace) -> list[Path]:
    """Run mnist_torch.py on ``recipe`` unless its last samples exist; returns the
    samples files, in step order."""
    last = folder / f"samples-{make_config(recipe).steps:07d}.npz"
    if not last.exists():
        command = [args.torch_python, str(Path(__file__).with_name("mnist_torch.py")),
                   "--recipe", str(recipe), "--data-dir", args.data_dir, "--out", str(folder),
                   "--n", str(N_SAMPLES)]
        print(" ".join(command), flush=True)
        subprocess.run(command, check=True)
    return sorted(folder.glob("samples-*.npz"))


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
    parser.add_argument("recipes", nargs="+", type=Path, help="scratchgan train --config files")
    parser.add_argument("--data-dir", required=True, help="folder with the MNIST IDX files")
    parser.add_argument("--out", default="runs/quality-mnist")
    parser.add_argument("--torch-python", help="a Python with torch, for the PyTorch reference")
    parser.add_argument("--torch", nargs="*", type=Path, help="the recipes to run in PyTorch "
                        "too (default: every non-saturating, unconditional, unpacked one)")
    parser.add_argument("--json", help="write all results to this file")
    args = parser.parse_args(argv)
    configs = {recipe: make_config(recipe) for recipe in args.recipes}   # bad ones named first
    out = Path(args.out)

    results: dict[str, dict] = {}
    for recipe, c in configs.items():
        folder = out / recipe.stem
        checkpoint, seconds = train(recipe, folder, args.data_dir)
        final = scored(folder / f"scores-{c.steps}.json",
                       lambda: evaluate(checkpoint, N_SAMPLES, args.data_dir))
        results[recipe.stem] = {"command": f"scratchgan train --config {recipe} --data-dir "
                                           f"{args.data_dir} --out {folder}",
                                "final": final, "curve": read_curve(folder),
                                "train_seconds": seconds}
    if args.torch_python:
        reference = None
        chosen = args.torch if args.torch is not None else [
            r for r, c in configs.items() if c.loss == "nonsaturating" and not c.conditional
            and c.pack == 1]
        for recipe in chosen:
            folder = out / f"pytorch-{recipe.stem}"
            files = torch_run(recipe, folder, args)
            reference = reference or image_reference("mnist", args.data_dir)
            scores = []
            for path in files:
                def score(path: Path = path) -> dict:
                    with np.load(path) as f:
                        return {"step": int(f["steps"]), "seconds": float(f["seconds"]),
                                **image_metrics(f["images"], reference)}
                scores.append(scored(path.with_suffix(".scores.json"), score))
            results[f"pytorch-{recipe.stem}"] = {
                "final": scores[-1],
                "curve": [{"step": s["step"], **{k: s[k] for k in CURVE_KEYS}}
                          for s in scores[:-1]]}
    results["real (train vs test)"] = {"final": scored(
        out / "real" / "scores.json", lambda: evaluate_real("mnist", N_SAMPLES, args.data_dir))}

    keys = ("fd", "is_mean", "classes_covered", "min_class_share", "max_class_share", "kid_mean",
            "precision", "recall")
    print("| run | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name, r in results.items():
        print(f"| {name} | " + " | ".join(f"{r['final'][k]:.4g}" for k in keys) + " |")
    for name, r in results.items():
        for point in r.get("curve", []):
            print(f"{name:<32} step {point['step']:>6}  FD {point['fd']:7.3f}  "
                  f"IS {point['is_mean']:5.2f}  classes {100 * point['min_class_share']:.1f}-"
                  f"{100 * point['max_class_share']:.1f} %")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
