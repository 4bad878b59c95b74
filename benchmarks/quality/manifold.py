"""Where samples fall off the data's manifold: precision split by how confidently the
shipped classifier reads each sample.

    python benchmarks/quality/manifold.py CHECKPOINT [CHECKPOINT ...] [--n 10000]
        [--json out.json]

For the sampling generator of each checkpoint (its EMA when kept) and for n real training
images of the checkpoint's dataset, n samples go through the classifier, and each sample
is called *confident* when max_k p(k | x) >= 0.9 (the classifier reads one digit in it)
and *inside* when its features lie in the real test set's k-NN manifold (improved
precision's balls, k = 3). The rows: the confident share, the precision of all samples,
of the confident ones and of the others. A generator whose misses are between-class
glyphs (a 4 half-way to a 9) has a low confident share and a precision of the confident
samples near the real images'; one whose digits are all malformed has a low precision
among the confident samples too.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

from scratchgan.config import no_grad
from scratchgan.data import load_dataset
from scratchgan.gan.evaluate import PR_NEIGHBOURS, image_reference, labelled_samples
from scratchgan.gan.metrics.classifier import features_and_probs
from scratchgan.gan.metrics.precision_recall import inside_manifold
from scratchgan.gan.sample import load_generator

CONFIDENT = 0.9


def split_precision(images: np.ndarray, reference: Any) -> dict[str, float]:
    """The confident share and the precision of all, confident and other samples."""
    feats, probs = features_and_probs(reference.classifier, images, 200)
    inside = inside_manifold(feats, reference.feats, reference.radii)
    confident = probs.max(axis=1) >= CONFIDENT

    def share(mask: np.ndarray) -> float | None:
        return float(inside[mask].mean()) if mask.any() else None
    return {"n": len(images), "confident_share": float(confident.mean()),
            "mean_max_probability": float(probs.max(axis=1).mean()),
            "precision": float(inside.mean()), "precision_confident": share(confident),
            "precision_other": share(~confident)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args(argv)
    rows, references = [], {}
    for path in args.checkpoints:
        G, state = load_generator(path)
        dataset = state["config"]["dataset"]
        if dataset not in references:
            references[dataset] = reference = image_reference(dataset)
            real = load_dataset(dataset, "train", seed=0, n=args.n).data
            rows.append({"source": f"real {dataset} (train split)",
                         **split_precision(real, reference)})
            print(json.dumps(rows[-1]), flush=True)

        def generate(z: np.ndarray, labels: Any) -> np.ndarray:
            with no_grad():
                return G(z, labels).data
        images, _ = labelled_samples(generate, args.n, G.nz, state["num_classes"], seed=0)
        rows.append({"source": str(path), **split_precision(images, references[dataset])})
        print(json.dumps(rows[-1]), flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"confident": CONFIDENT, "k": PR_NEIGHBOURS, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
