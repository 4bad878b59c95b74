"""Scoring a generator: image metrics against a dataset's test split, or PacGAN's mode
statistics for the 2-D mixtures.

For an image dataset, n generated images and the test split (all of it, drawn
with seed 0 where the dataset is generated) go through the dataset's classifier
(:mod:`scratchgan.gan.metrics.classifier`; ``digits`` uses MNIST's), and the
result holds:

    fd                        Fréchet distance of the 128-d features (lower is better)
    is_mean, is_std           classifier Inception Score over 10 splits (up to 10)
    kid_mean, kid_std         KID over 100 subsets of min(1000, n) (lower is better)
    precision, recall         k = 3 nearest-neighbour manifolds (higher is better)
    classes_covered           classes holding at least 1/(2K) of the samples
    class_histogram           samples per predicted class
    max_class_share, min_class_share
    label_accuracy            conditional generators: the share of samples the classifier
                              reads as the label they were drawn for, overall and per label
                              (label_accuracy_per_class: the rows of a conditional grid)

For ``ring8`` and ``grid25``: modes_captured, num_modes, high_quality_fraction,
reverse_kl (:func:`scratchgan.gan.metrics.mode_statistics`).

:func:`evaluate` scores a checkpoint, :func:`evaluate_generator` any function
``generate(z, labels) -> samples`` (a live Trainer's ``generate``), and
:func:`evaluate_real` real training images, the baseline a generator can at
best reach.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from scratchgan.config import no_grad
from scratchgan.data import GRID25_CENTRES, GRID25_STD, RING8_CENTRES, RING8_STD, load_dataset
from scratchgan.gan import checkpoint
from scratchgan.gan.metrics import (class_coverage, frechet_distance, inception_score,
                                    kernel_inception_distance, mode_statistics, precision_recall)
from scratchgan.gan.metrics.classifier import (CLASSIFIER_FOR_DATASET, DigitClassifier,
                                               classifier_for_dataset, features_and_probs,
                                               load_classifier, shipped_classifiers)
from scratchgan.gan.metrics.precision_recall import knn_radii
from scratchgan.gan.sample import load_generator
from scratchgan.io import atomic_write

#: the 2-D mixtures, scored by mode statistics: name -> (centres, per-mode std)
MIXTURES = {"ring8": (RING8_CENTRES, RING8_STD), "grid25": (GRID25_CENTRES, GRID25_STD)}
#: the seed of the reference test split, fixed so every run is scored against the same images
REFERENCE_SEED = 0
MIN_SAMPLES = 10

Generate = Callable[[np.ndarray, "np.ndarray | None"], np.ndarray]


#: precision and recall's k-th nearest neighbours (Kynkäänniemi et al. 2019)
PR_NEIGHBOURS = 3


@dataclass
class ImageReference:
    """What scoring images of ``dataset`` needs once: the classifier, the features of the
    test split and their k-NN radii (precision's balls). Build it with
    :func:`image_reference` and pass it to every :func:`evaluate_generator` call of a
    run."""
    dataset: str
    classifier_name: str
    classifier: DigitClassifier
    feats: np.ndarray
    radii: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.radii is None:
            self.radii = knn_radii(self.feats, PR_NEIGHBOURS)


def image_reference(dataset: str, data_dir: str | None = None, batch_size: int = 200,
                    n: int | None = None) -> ImageReference:
    """The classifier of ``dataset`` and the features of its test split (all of it, or
    n images drawn with seed 0)."""
    name = classifier_for_dataset(dataset)
    classifier = load_classifier(name)
    test = load_dataset(dataset, "test", seed=REFERENCE_SEED, n=n, data_dir=data_dir)
    feats, _ = features_and_probs(classifier, test.data, batch_size)
    return ImageReference(dataset, name, classifier, feats)


def why_unscored(dataset: str) -> str | None:
    """Why generators of ``dataset`` cannot be scored (no classifier for it ships), or
    None when they can (a mixture, or an image dataset whose classifier ships)."""
    if dataset in MIXTURES:
        return None
    name = CLASSIFIER_FOR_DATASET.get(dataset)
    if name is None:
        return (f"no classifier scores dataset {dataset!r} (image metrics exist for "
                f"{', '.join(sorted(CLASSIFIER_FOR_DATASET))})")
    if name not in shipped_classifiers():
        return (f"the {name} classifier that scores {dataset!r} does not ship; train it "
                f"with benchmarks/quality/train_classifier.py --dataset {name}")
    return None


def image_metrics(images: np.ndarray, reference: ImageReference, seed: int = 0,
                  batch_size: int = 200, labels: np.ndarray | None = None) -> dict[str, Any]:
    """Every image metric of ``images`` (N, C, H, W) in [-1, 1], N >= 10, against the
    reference's test features (the table in the module docstring); with ``labels`` (the
    labels a conditional generator was given) also the label accuracy."""
    if len(images) < MIN_SAMPLES:
        raise ValueError(f"image metrics need at least {MIN_SAMPLES} images, got {len(images)}")
    feats, probs = features_and_probs(reference.classifier, images, batch_size)
    inception = inception_score(probs, splits=10)
    kid = kernel_inception_distance(reference.feats, feats, subsets=100, seed=seed)
    precision, recall = precision_recall(reference.feats, feats, k=PR_NEIGHBOURS,
                                         real_radii=reference.radii)
    coverage = class_coverage(probs, probs.shape[1])
    conditional = {} if labels is None else label_accuracy(probs, labels)
    return {**conditional, "classifier": reference.classifier_name,
            "reference_size": len(reference.feats),
            "fd": frechet_distance(reference.feats, feats),
            "is_mean": inception.mean, "is_std": inception.std,
            "kid_mean": kid.mean, "kid_std": kid.std, "precision": precision, "recall": recall,
            "classes_covered": coverage.classes_covered, "num_classes": coverage.num_classes,
            "class_histogram": list(coverage.histogram),
            "max_class_share": coverage.max_class_share,
            "min_class_share": coverage.min_class_share}


def label_accuracy(probs: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """How often the classifier reads a conditional sample as the label it was drawn for:
    label_accuracy = mean_i [argmax_k p(k | x_i) = y_i], and the same per label
    (label_accuracy_per_class[k]: over the samples drawn for label k; None for a label no
    sample was drawn for)."""
    labels = np.asarray(labels)
    hit = np.argmax(probs, axis=1) == labels
    per_class = [float(hit[labels == k].mean()) if np.any(labels == k) else None
                 for k in range(probs.shape[1])]
    return {"label_accuracy": float(hit.mean()), "label_accuracy_per_class": per_class}


def labelled_samples(generate: Generate, n: int, nz: int, num_classes: int = 0, seed: int = 0,
                     batch_size: int = 200) -> tuple[np.ndarray, np.ndarray | None]:
    """(samples, labels): n samples of ``generate(z, labels)``, z ~ N(0, I) (float32,
    (batch, nz)) drawn with ``seed``; for a conditional generator (``num_classes`` > 0)
    the labels cycle through the classes in a shuffled order, so each class gets n/K
    samples (+-1); labels is None for an unconditional one."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % num_classes) if num_classes else None
    parts = []
    for start in range(0, n, batch_size):
        z = rng.standard_normal((min(batch_size, n - start), nz)).astype(np.float32)
        parts.append(np.asarray(generate(z, None if labels is None
                                         else labels[start:start + len(z)])))
    return np.concatenate(parts), labels


def generate_samples(generate: Generate, n: int, nz: int, num_classes: int = 0, seed: int = 0,
                     batch_size: int = 200) -> np.ndarray:
    """The samples of :func:`labelled_samples` alone."""
    return labelled_samples(generate, n, nz, num_classes, seed, batch_size)[0]


def evaluate_generator(generate: Generate, dataset: str, n: int, nz: int, num_classes: int = 0,
                       seed: int = 0, batch_size: int = 200, data_dir: str | None = None,
                       reference: ImageReference | None = None,
                       reference_n: int | None = None) -> dict[str, Any]:
    """Score ``generate(z, labels) -> samples`` (a Trainer's ``generate``, say) on n
    samples: image metrics for an image dataset, mode statistics for a mixture.
    ``reference`` is built from ``reference_n`` test images (None: all) when not
    given; build it once with :func:`image_reference` to score a run repeatedly."""
    if n < MIN_SAMPLES:
        raise ValueError(f"evaluation needs n >= {MIN_SAMPLES} samples, got {n}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    result: dict[str, Any] = {"dataset": dataset, "n": n, "seed": seed}
    if dataset in MIXTURES:
        stats = mode_statistics(generate_samples(generate, n, nz, num_classes, seed, batch_size),
                                *MIXTURES[dataset])
        return {**result, "kind": "points", "modes_captured": stats.modes_captured,
                "num_modes": stats.num_modes,
                "high_quality_fraction": stats.high_quality_fraction,
                "reverse_kl": stats.reverse_kl}
    if reference is None:
        reference = image_reference(dataset, data_dir, batch_size, reference_n)
    elif reference.dataset != dataset:
        raise ValueError(f"the reference was built for {reference.dataset!r}, not {dataset!r}")
    images, labels = labelled_samples(generate, n, nz, num_classes, seed, batch_size)
    return {**result, "kind": "image", **image_metrics(images, reference, seed, batch_size,
                                                       labels)}


def evaluate(checkpoint_path: str | Path, n: int = 10000, data_dir: str | None = None,
             seed: int = 0, batch_size: int = 200,
             reference_n: int | None = None) -> dict[str, Any]:
    """Score the generator of a checkpoint (its EMA weights when kept) on n samples
    against ``reference_n`` test images (None: all). ``data_dir`` defaults to the
    run's own, where its config names one. A pix2pix checkpoint is scored on n held-out
    pairs instead (:func:`scratchgan.gan.translate.evaluate_translation`: L1, PSNR and
    for the digit sets the classifier's accuracy with its ceiling)."""
    state = checkpoint.load(checkpoint_path)
    if state.get("task") == "pix2pix":
        from scratchgan.gan.translate import evaluate_translation
        return evaluate_translation(checkpoint_path, state, n, data_dir, seed, batch_size)
    G, state = load_generator(checkpoint_path)
    config = state["config"]

    def generate(z: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
        with no_grad():
            return G(z, labels).data

    result = evaluate_generator(generate, config["dataset"], n, G.nz, state["num_classes"],
                                seed, batch_size, data_dir or config.get("data_dir") or None,
                                reference_n=reference_n)
    return {"checkpoint": str(checkpoint_path), "step": state.get("step"), **result}


def evaluate_real(dataset: str, n: int = 10000, data_dir: str | None = None, seed: int = 0,
                  batch_size: int = 200, reference_n: int | None = None) -> dict[str, Any]:
    """The real-vs-real baseline: n images of the training split (drawn with ``seed``)
    scored like a generator's against ``reference_n`` test images (None: all)."""
    if dataset in MIXTURES:
        raise ValueError(f"{dataset!r} is a 2-D mixture: its real samples capture every mode "
                         "by construction; evaluate_real scores image datasets")
    reference = image_reference(dataset, data_dir, batch_size, reference_n)
    train = load_dataset(dataset, "train", seed=seed, n=n, data_dir=data_dir)
    return {"dataset": dataset, "n": len(train), "seed": seed, "kind": "image",
            "source": "train split", **image_metrics(train.data, reference, seed, batch_size)}


def format_table(result: dict[str, Any]) -> str:
    """The result as aligned "name  value" lines (means with their std)."""
    rows: list[tuple[str, str]] = []
    if result["kind"] == "points":
        rows += [("modes captured", f"{result['modes_captured']} / {result['num_modes']}"),
                 ("high-quality samples", f"{100 * result['high_quality_fraction']:.1f} %"),
                 ("reverse KL", f"{result['reverse_kl']:.4f}")]
    else:
        rows += [("FD", f"{result['fd']:.3f}"),
                 ("IS", f"{result['is_mean']:.3f} +- {result['is_std']:.3f}"),
                 ("KID", f"{result['kid_mean']:.5f} +- {result['kid_std']:.5f}"),
                 ("precision", f"{result['precision']:.4f}"),
                 ("recall", f"{result['recall']:.4f}"),
                 ("classes covered", f"{result['classes_covered']} / {result['num_classes']}"),
                 ("class shares", f"max {100 * result['max_class_share']:.1f} %, "
                                  f"min {100 * result['min_class_share']:.1f} %"),
                 ("class histogram", " ".join(map(str, result["class_histogram"])))]
        if result.get("label_accuracy") is not None:
            rows.append(("label accuracy", f"{100 * result['label_accuracy']:.1f} % (per label: "
                         + " ".join("-" if a is None else f"{100 * a:.0f}"
                                    for a in result["label_accuracy_per_class"]) + ")"))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def write_json_atomically(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON to ``path`` with ``atomic_write``, so a reader never
    sees half a file."""
    path = Path(path)
    with atomic_write(path, "w") as fh:
        fh.write(json.dumps(obj, indent=2) + "\n")
    return path
