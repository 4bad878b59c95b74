"""Screen an image recipe quickly: train with config overrides, score the EMA generator
and G itself at chosen steps, on fewer samples than QUALITY.md's final rows.

    python benchmarks/quality/recipe_search.py NAME '{"ngf": 32, "lr_g": 1e-3, ...}' \
        STEP [STEP ...] [--json out.json]

Trains ``scratchgan train``'s defaults updated by the JSON overrides (one thread unless
``threads`` is given, ``steps`` = the last STEP unless given: it sets the learning-rate
schedule) without a run folder, and at each STEP scores 5000 samples (noise seed 1) of
the EMA generator and of G against 5000 test images of the dataset (FD, IS, class shares,
precision, recall; the label accuracy of a conditional recipe). This is how the main
job's recipe was chosen (QUALITY.md, "The main job"); the final rows use
``scratchgan eval``'s 10000 samples.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from typing import Any, Callable

import numpy as np

from scratchgan.config import no_grad
from scratchgan.gan.build import build_trainer
from scratchgan.gan.config import make_config
from scratchgan.gan.evaluate import evaluate_generator, image_reference

N = 5000
KEYS = ("fd", "is_mean", "min_class_share", "max_class_share", "precision", "recall")
CONDITIONAL = ("label_accuracy",)     # conditional recipes: samples read as their label


def raw_generator(trainer: Any) -> Callable[[np.ndarray, Any], np.ndarray]:
    """G itself (its running statistics, eval mode), beside the EMA the trainer samples."""
    def generate(z: np.ndarray, labels: Any = None) -> np.ndarray:
        with trainer.scope(), no_grad():
            trainer.G.eval()
            try:
                return trainer.G(*trainer.task.generator_args(z, labels)).data
            finally:
                trainer.G.train()
    return generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("overrides", type=json.loads, help="config keys as a JSON object")
    parser.add_argument("steps", nargs="+", type=int, help="the steps to score at")
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args(argv)
    evals = sorted(args.steps)
    overrides = {"threads": 1, "steps": evals[-1], **args.overrides}
    rows = []
    with tempfile.TemporaryDirectory() as out:
        c = make_config(out=out, progress=False, log_every=10 ** 9, **overrides)
        trainer = build_trainer(c)
        reference = image_reference(c.dataset, c.data_dir or None, n=N)
        seconds = 0.0
        while trainer.step < evals[-1]:
            start = time.perf_counter()
            trainer.train_step()
            seconds += time.perf_counter() - start
            if trainer.step not in evals:
                continue
            row: dict[str, Any] = {"step": trainer.step, "train_seconds": round(seconds, 1)}
            for who, generate in (("ema", trainer.generate), ("G", raw_generator(trainer))):
                if who == "G" and trainer.ema is None:
                    continue
                scores = evaluate_generator(generate, c.dataset, N, trainer.task.nz,
                                            trainer.task.num_classes, seed=1,
                                            reference=reference)
                row.update({f"{who}_{k}": scores[k] for k in KEYS + CONDITIONAL if k in scores})
            rows.append(row)
            print(args.name, json.dumps(row), flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"name": args.name, "overrides": args.overrides, "rows": rows}, fh,
                      indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
