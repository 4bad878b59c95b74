"""pix2pix after (and during) training: translating images with a checkpoint's generator,
and scoring a generator on held-out pairs.

Scores (:mod:`scratchgan.gan.metrics.translation`): L1 and PSNR of the translated held-out
inputs against their targets; for the digit sets (``edges2digits``, ``masked2digits``,
``edges2mnist``, ``masked2mnist``, translated A to B) the shipped MNIST classifier's
accuracy on the translated inputs, beside its accuracy on the targets: the ceiling a
perfect translation reaches.

:func:`load_translator` rebuilds a pix2pix checkpoint's generator (its EMA weights when
kept) in eval mode: dropout off, batch norm on its running statistics, so a translation
is deterministic. :func:`read_images` reads what ``scratchgan translate`` takes (a folder
of PNG or JPEG files, or an .npz of images) and :func:`write_images` writes the results.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

import numpy as np

from scratchgan import nn
from scratchgan.config import no_grad
from scratchgan.data import (PAIRED_DATASETS, DataFileError, DatasetNotFoundError, PairedDataset,
                             has_held_out)
from scratchgan.data.image_files import IMAGE_KEYS, load_npz_images, read_image_files
from scratchgan.data.paired_files import IMAGE_SUFFIXES
from scratchgan.gan import checkpoint
from scratchgan.gan.config import TrainConfig, saved_config
from scratchgan.gan.metrics.classifier import (CLASSIFIER_FOR_DATASET, DigitClassifier,
                                               load_classifier)
from scratchgan.gan.metrics.translation import translation_scores
from scratchgan.gan.models import build_pix2pix
from scratchgan.io import save_arrays
from scratchgan.viz import save_images

Translate = Callable[[np.ndarray], np.ndarray]
TASK = "pix2pix"


def classifier_name(dataset: str, direction: str, target_shape: tuple[int, ...]) -> str | None:
    """The classifier that checks translated images of ``dataset``: MNIST's for the built-in
    digit sets translated to digits (A to B, 28x28 grey), else None."""
    if dataset not in PAIRED_DATASETS or direction != "AtoB" or tuple(target_shape) != (1, 28, 28):
        return None
    return CLASSIFIER_FOR_DATASET.get(dataset.partition("2")[2])


@dataclasses.dataclass
class TranslationReference:
    """What scoring a translator needs once: held-out pairs, and the classifier (and its
    name) that checks the translated digits, or None."""
    pairs: PairedDataset
    classifier: DigitClassifier | None
    classifier_name: str | None


def why_unscored_pairs(dataset: str) -> str | None:
    """Why a pix2pix run on the paired ``dataset`` cannot score itself (None: it can): a
    paired:DIR folder without val/ has no held-out pairs."""
    return None if has_held_out(dataset) else (f"{dataset} has no val/ folder, so no "
                                               f"held-out pairs to score")


def translation_reference(config: TrainConfig, n: int) -> TranslationReference:
    """n held-out pairs of ``config.dataset`` (drawn with ``config.seed``) and its classifier."""
    from scratchgan.gan.build import held_out_pairs
    pairs = held_out_pairs(config, n)
    name = classifier_name(config.dataset, config.direction, pairs.targets.shape[1:])
    return TranslationReference(pairs, load_classifier(name) if name else None, name)


def translate_in_batches(translate: Translate, inputs: np.ndarray,
                         batch_size: int = 200) -> np.ndarray:
    """``translate`` over ``inputs`` in batches of ``batch_size``, as one host array."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    return np.concatenate([np.asarray(translate(inputs[i:i + batch_size]))
                           for i in range(0, len(inputs), batch_size)])


def evaluate_translator(translate: Translate, reference: TranslationReference,
                        batch_size: int = 200) -> dict[str, Any]:
    """L1, PSNR and (digit sets) accuracy with its ceiling of ``translate`` on the
    reference's held-out pairs."""
    pairs = reference.pairs
    outputs = translate_in_batches(translate, pairs.inputs, batch_size)
    scores = translation_scores(outputs, pairs.targets, pairs.labels, reference.classifier)
    return {"dataset": pairs.name, "kind": "translation", "n": len(pairs),
            "l1": scores.l1, "psnr": scores.psnr, "accuracy": scores.accuracy,
            "ceiling": scores.ceiling, "classifier": reference.classifier_name}


def format_translation(result: dict[str, Any]) -> str:
    """The scores as aligned "name  value" lines."""
    rows = [("L1", f"{result['l1']:.4f}  (mean |output - target| over pixels in [-1, 1])"),
            ("PSNR", f"{result['psnr']:.2f} dB")]
    if result.get("accuracy") is not None:
        rows += [("accuracy", f"{100 * result['accuracy']:.1f} %  (the {result['classifier']} "
                              f"classifier on the translated inputs)"),
                 ("ceiling", f"{100 * result['ceiling']:.1f} %  (the same classifier on the "
                             f"targets)")]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def generator_of(state: dict[str, Any], path: str | Path) -> nn.Module:
    """The generator of a pix2pix checkpoint's ``state`` (EMA weights when kept), in eval
    mode; a CheckpointError naming ``path`` for any other checkpoint."""
    if state.get("task") != TASK:
        raise checkpoint.CheckpointError(
            f"{path} holds a generation model (task gan), not a pix2pix translator: draw "
            f"samples from it with scratchgan sample")
    weights = checkpoint.generator_weights(state, path)   # finite arrays, else named
    checkpoint.check_sizes(path, sum(a.size for a in weights.values()),
                           input_shape=state.get("input_shape"),
                           target_shape=state.get("target_shape"), ngf=state.get("ngf"),
                           ndf=state.get("ndf"))
    try:
        G, _ = build_pix2pix(tuple(state["input_shape"]), tuple(state["target_shape"]),
                             state["ngf"], state["ndf"], state["batchnorm_in_d"])
        G.load_state_dict(weights)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as e:
        raise checkpoint.CheckpointError(f"{path} does not hold a usable translator: {e}") from None
    return G.eval()


def load_translator(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """(G in eval mode, the checkpoint's state) of the pix2pix checkpoint at ``path``."""
    state = checkpoint.load(path)
    return generator_of(state, path), state


def as_translate(G: nn.Module) -> Translate:
    def translate(x: np.ndarray) -> np.ndarray:
        with no_grad():
            return G(np.asarray(x, np.float32)).data
    return translate


def evaluate_translation(path: str | Path, state: dict[str, Any], n: int = 10000,
                         data_dir: str | None = None, seed: int = 0,
                         batch_size: int = 200) -> dict[str, Any]:
    """Score the translator of the checkpoint ``path`` (its loaded ``state``) on n held-out
    pairs of its dataset drawn with ``seed`` (fewer when the held-out split is smaller)."""
    G = generator_of(state, path)
    config = dataclasses.replace(saved_config(state["config"]), seed=seed,
                                 data_dir=data_dir or state["config"].get("data_dir", ""))
    result = evaluate_translator(as_translate(G), translation_reference(config, n), batch_size)
    return {"checkpoint": str(path), "step": state.get("step"), "seed": seed, **result}


def read_images(path: str | Path) -> tuple[np.ndarray, list[str]]:
    """The images of a folder (its PNG and JPEG files, by name) or an .npz (under ``images``
    or ``x``, or its only array), float32 (N, C, H, W) in [-1, 1], and a name for each."""
    path = Path(path).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DataFileError(f"{path}: no .png or .jpg files in it")
        _check_distinct_stems(files, path)
        return read_image_files(files), [p.stem for p in files]
    if path.suffix.lower() == ".npz":
        images, _, _ = load_npz_images(path)
        return images, [f"{i:05d}" for i in range(len(images))]
    if not path.exists():
        raise DatasetNotFoundError(f"{path}: no such file or folder")
    raise DataFileError(f"{path}: give a folder of PNG or JPEG images or an .npz of images "
                        f"(under {' or '.join(map(repr, IMAGE_KEYS))})")


def _check_distinct_stems(files: list[Path], folder: Path) -> None:
    """Refuse inputs that would be written to one output (``a.png``, ``a.jpg``, ``a.JPEG``
    all become ``a.png``), naming them."""
    by_stem: dict[str, list[str]] = {}
    for p in files:
        by_stem.setdefault(p.stem, []).append(p.name)
    clash = next((names for names in by_stem.values() if len(names) > 1), None)
    if clash:
        raise DataFileError(f"{folder}: {', '.join(clash)} would all be translated into "
                            f"{Path(clash[0]).stem}.png; rename all but one")


def check_inputs(images: np.ndarray, G: nn.Module, source: str) -> np.ndarray:
    """``images`` in the shape G takes, else a ValueError naming both. Grey images saved as
    RGB (three equal channels, as most tools write them) count as grey, and grey images
    are repeated to RGB for a translator of colour images."""
    want = (G.in_channels, G.image_size, G.image_size)
    if want[0] == 1 and images.shape[1] == 3 and np.array_equal(images[:, :1], images[:, 1:2]) \
            and np.array_equal(images[:, :1], images[:, 2:]):
        images = images[:, :1]
    elif want[0] == 3 and images.shape[1] == 1:
        images = np.repeat(images, 3, axis=1)
    if images.shape[1:] != want:
        raise ValueError(f"{source}: images of shape (C, H, W) = {images.shape[1:]}, but this "
                         f"translator takes {want}")
    return images


def output_paths(names: list[str], folder: str | Path) -> list[Path]:
    """Where the translations of the inputs ``names`` go: ``folder/<name>.png``."""
    return [Path(folder) / f"{name}.png" for name in names]


def write_images(images: np.ndarray, names: list[str], folder: str | Path) -> list[Path]:
    """Each image (C, H, W) in [-1, 1] as ``folder/<name>.png`` (grey or RGB)."""
    return save_images(images, output_paths(names, folder))


def write_translations(images: np.ndarray, names: list[str], out: str | Path) -> None:
    """The translations of the inputs ``names``: to an ``.npz`` as the arrays ``images``
    (float32 (N, C, H, W) in [-1, 1]) and ``names``; else into the folder ``out``, one
    PNG per input (:func:`write_images`)."""
    if Path(out).suffix.lower() == ".npz":
        save_arrays(out, "translate", images=images.astype(np.float32), names=np.array(names))
    else:
        write_images(images, names, out)
