"""Sampling from a checkpoint: a grid of samples, per-label rows, or interpolations, written
as one PNG grid, one PNG per sample (a folder) or the arrays (an .npz)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scratchgan import nn, viz
from scratchgan.config import no_grad
from scratchgan.gan import checkpoint
from scratchgan.gan.config import resume_key_default
from scratchgan.gan.models import build_models
from scratchgan.gan.outputs import OutputPathError, check_new_files, output_is_folder
from scratchgan.io import save_arrays


def parse_labels(text: str, num_classes: int) -> list[int]:
    """"0-9", "3" or "1,4,7" -> the label list, each in [0, num_classes)."""
    labels: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        try:
            first, last = int(lo), int(hi or lo)
        except ValueError:
            raise ValueError(f"--labels takes e.g. 0-9, 3 or 1,4,7; got {text!r}") from None
        if last < first:
            raise ValueError(f"--labels {text!r}: the range {part} runs backwards; write "
                             f"{last}-{first}")
        labels += list(range(first, last + 1))
    bad = [k for k in labels if not 0 <= k < num_classes]
    if bad or not labels:
        raise ValueError(f"--labels {text!r}: labels must lie in [0, {num_classes})")
    return labels


def load_generator(path: str | Path) -> tuple[nn.Module, dict]:
    """The generator of a checkpoint (its EMA weights when kept), in eval mode."""
    state = checkpoint.load(path)
    if state.get("task", "gan") != "gan":
        raise checkpoint.CheckpointError(
            f"{path} holds a {state['task']} translator, not a generator of samples from "
            f"noise: translate images with scratchgan translate")
    weights = checkpoint.generator_weights(state, path)   # finite arrays, else named
    cfg = state.get("config")
    if not isinstance(cfg, dict) or not isinstance(state.get("model"), str):
        raise checkpoint.CheckpointError(f"{path} has no 'config' table or 'model' name")
    checkpoint.check_sizes(path, sum(a.size for a in weights.values()), nz=cfg.get("nz"),
                           ngf=cfg.get("ngf", resume_key_default("ngf")),
                           num_classes=state.get("num_classes"),
                           data_shape=state.get("data_shape"))
    try:
        G, _ = build_models(state["model"], tuple(state["data_shape"]), state["num_classes"],
                            nz=cfg["nz"] or None, g_conditioning=cfg["g_conditioning"],
                            ngf=cfg.get("ngf", resume_key_default("ngf")),
                            upsample=cfg.get("g_upsample", resume_key_default("g_upsample")))
        G.load_state_dict(weights)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as e:
        raise checkpoint.CheckpointError(f"{path} does not hold a usable generator: {e}") from None
    return G.eval(), state


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation between rows a and b, at fractions t (White 2016)."""
    cos = np.sum(a * b, -1, keepdims=True) / (np.linalg.norm(a, axis=-1, keepdims=True)
                                              * np.linalg.norm(b, axis=-1, keepdims=True))
    omega = np.arccos(np.clip(cos, -1, 1))[..., None]
    so = np.sin(omega)
    t = t[None, :, None]
    return (np.sin((1 - t) * omega) * a[:, None] + np.sin(t * omega) * b[:, None]) / np.maximum(so, 1e-8)


@dataclass
class Samples:
    """What :func:`sample` draws: ``data``, images (N, C, H, W) in [-1, 1] or 2-D points
    (N, 2); their ``labels`` (a conditional model) or None; ``nrow``, a grid's row."""
    data: np.ndarray
    labels: np.ndarray | None
    nrow: int


def sample(path: str | Path, n: int = 100, labels: str | None = None, interpolate: bool = False,
           seed: int = 0) -> Samples:
    """Samples from the checkpoint at ``path``: ``n`` (rows of 10 with ``interpolate``),
    labelled in turn by ``labels`` (e.g. "0-9"; all classes by default) where the model is
    conditional, from noise drawn with ``seed``."""
    G, state = load_generator(path)
    rng = np.random.default_rng(seed)
    num_classes = state["num_classes"]
    nrow = 10
    if interpolate:
        rows = max(1, n // nrow)
        a, b = (rng.standard_normal((rows, G.nz)) for _ in range(2))
        z = slerp(a, b, np.linspace(0, 1, nrow)).reshape(-1, G.nz)
    else:
        z = rng.standard_normal((n, G.nz))
    y = None
    if num_classes:
        chosen = parse_labels(labels or f"0-{num_classes - 1}", num_classes)
        per_row = np.repeat(chosen, -(-len(z) // len(chosen)))[:len(z)]
        # an interpolation's rows take the chosen labels in turn, one label a row
        y = per_row if not interpolate else np.repeat(np.resize(chosen, len(z) // nrow), nrow)
    elif labels:
        raise ValueError("--labels needs a conditional model; this checkpoint is unconditional")
    with no_grad():
        return Samples(G(z.astype(np.float32), y).data, y, nrow)


def write_samples(samples: Samples, out: str | Path, overwrite: bool = False) -> str:
    """Write ``samples`` to ``out`` (checked by :mod:`scratchgan.gan.outputs`) and say what
    was written: a folder (``out`` ends in ``/``): one PNG per sample, ``00000.png`` ...;
    an ``.npz``: the arrays, ``images`` float32 (N, C, H, W) in [-1, 1] (``points`` (N, 2)
    for a 2-D mixture) and ``labels`` int64 where the model has them; a ``.png``: one
    grid (a scatter plot of points)."""
    data, points = samples.data, samples.data.ndim == 2
    if output_is_folder(out):
        if points:
            raise OutputPathError("--out: 2-D samples are points, not images: write them "
                                  "to an .npz or a .png scatter plot")
        paths = [Path(out) / f"{i:05d}.png" for i in range(len(data))]
        check_new_files(paths, "--out", overwrite)
        viz.save_images(data, paths)
        return f"{len(data)} samples, one PNG each, to {out}"
    if Path(out).suffix.lower() == ".npz":
        arrays = {"points" if points else "images": data.astype(np.float32)}
        if samples.labels is not None:
            arrays["labels"] = samples.labels.astype(np.int64)
        save_arrays(out, "sample", **arrays)
        return f"{len(data)} samples ({', '.join(arrays)}) to {out}"
    if points:
        viz.plot_points(data, out)
    else:
        viz.save_image_grid(data, out, nrow=samples.nrow)
    return f"{len(data)} samples to {out}"
