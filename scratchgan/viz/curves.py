"""Curves of a training run against the step: losses, D outputs, gradient norms, update
sizes, D's input gradients, and the run's scores (IS, FD, precision, ...).

A run logs one dict per logged step (``{"step": 100, "loss_d": 1.2, ...}``); a
key may be missing from some records (a value logged less often), and missing,
NaN or infinite values leave a gap rather than an error.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scratchgan.viz.files import save_figure

Records = Sequence[dict[str, Any]]


def _series(records: Records, key: str, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of the records that hold a finite ``key`` (and > 0 if ``positive``).

    A record without "step" counts as step = its index.
    """
    steps, values = [], []
    for index, record in enumerate(records):
        value = record.get(key)
        if value is None:
            continue
        value = float(value)
        if np.isfinite(value) and (value > 0 or not positive):
            steps.append(float(record.get("step", index)))
            values.append(value)
    return np.array(steps), np.array(values)


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """The mean of each value and up to ``window - 1`` values before it."""
    total = np.cumsum(np.concatenate([[0.0], values]))
    start = np.maximum(np.arange(1, len(values) + 1) - window, 0)
    return (total[1:] - total[start]) / (np.arange(1, len(values) + 1) - start)


def _plot_curve(axes: Axes, steps: np.ndarray, values: np.ndarray, label: str) -> None:
    """The raw curve, faint, under its moving average once there are enough points;
    nothing when there are no points."""
    if len(values) == 0:
        return
    if len(values) < 50:
        axes.plot(steps, values, label=label)
        return
    (raw,) = axes.plot(steps, values, alpha=0.25, linewidth=0.8)
    axes.plot(steps, _moving_average(values, len(values) // 50), color=raw.get_color(), label=label)


def _legend_or_note(axes: Axes, message: str, fontsize: int = 8, ncol: int = 1) -> None:
    """A legend when the panel has curves, else ``message`` in its middle."""
    if axes.lines:
        axes.legend(fontsize=fontsize, ncol=ncol)
    else:
        axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes,
                  color="gray")


#: the panels of a run's scores (``scratchgan.gan.evaluate``'s keys): title, (key, label)s
SCORE_PANELS = (
    ("IS (higher is better)", (("is_mean", "IS"),)),
    ("FD (lower is better)", (("fd", "FD"),)),
    ("precision and recall", (("precision", "precision"), ("recall", "recall"))),
    ("class shares", (("min_class_share", "rarest class"), ("max_class_share", "commonest"))),
    ("label accuracy", (("label_accuracy", "samples read as their label"),)),
    ("modes captured", (("modes_captured", "modes"),)),
    ("high-quality samples", (("high_quality_fraction", "share within 3 std"),)),
    ("L1 to the targets", (("l1", "L1"),)),
    ("PSNR (dB)", (("psnr", "PSNR"),)),
    ("classifier accuracy", (("accuracy", "translations"), ("ceiling", "targets"))),
)


def plot_training_curves(records: Records, path: str | Path, scores: Records = ()) -> Path:
    """Write the losses (left) and mean D(x), D(G(z)) (right) against the step, and
    under them, when ``scores`` holds evaluations (eval.jsonl's records, scores.json's),
    one panel per score they hold (``SCORE_PANELS``: IS, FD, precision and recall,
    class shares, ...) against the step.

    Keys: "loss_d", "loss_g" and any other "loss*" key (say "loss_gp") on the
    left; "d_real" (D on real data) and "d_fake" (D on generated data) on the
    right. Curves with 50 or more points are drawn with a moving average.
    """
    loss_keys = ["loss_d", "loss_g"] + sorted({key for record in records for key in record
                                               if key.startswith("loss") and key not in
                                               ("loss_d", "loss_g")})
    scores = sorted(scores, key=lambda record: record.get("step", 0))
    panels = [(title, keys) for title, keys in SCORE_PANELS
              if any(len(_series(scores, key)[0]) for key, _ in keys)]
    rows = 1 + -(-len(panels) // 2)
    figure = Figure(figsize=(11, 4 * rows))
    grid = figure.subplots(rows, 2, squeeze=False)
    losses, outputs = grid[0]
    for axes, (title, keys) in zip(grid[1:].flat, panels):
        for key, label in keys:
            steps, values = _series(scores, key)
            if len(values):
                axes.plot(steps, values, marker="o", label=label)
        axes.set_title(title)
        axes.set_xlabel("step")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    for axes in list(grid[1:].flat)[len(panels):]:
        axes.set_axis_off()
    for key in loss_keys:
        _plot_curve(losses, *_series(records, key), key)
    for key, label in (("d_real", "D(x), real"), ("d_fake", "D(G(z)), generated")):
        _plot_curve(outputs, *_series(records, key), label)
    losses.set_title("losses")
    outputs.set_title("discriminator output on real and generated data")
    for axes in (losses, outputs):
        axes.set_xlabel("step")
        axes.grid(alpha=0.3)
        _legend_or_note(axes, "nothing logged yet")
    figure.tight_layout()
    return save_figure(figure, path)


def _networks(records: Records, kind: str = "grad_norm") -> dict[str, list[str]]:
    """Keys "<kind>/<network>/<layer>" grouped by network: G first, then D, then the rest."""
    keys: dict[str, list[str]] = {}
    for record in records:
        for key in record:
            parts = key.split("/", 2)
            if len(parts) == 3 and parts[0] == kind and key not in keys.get(parts[1], []):
                keys.setdefault(parts[1], []).append(key)
    order = {"G": 0, "D": 1}
    return dict(sorted(keys.items(), key=lambda item: (order.get(item[0], 2), item[0])))


#: D's input-gradient keys (gan/gradstats.py) and their labels
INPUT_GRAD_KEYS = (("d_input_grad/real", "real x"), ("d_input_grad/fake", "generated G(z)"))


def _per_layer_panel(axes: Axes, records: Records, keys: list[str], title: str,
                     empty: str) -> None:
    for key in keys:
        steps, values = _series(records, key, positive=True)
        if len(values):
            axes.plot(steps, values, label=key.split("/", 2)[2], linewidth=1)
    axes.set_yscale("log")
    axes.set_title(title)
    axes.set_xlabel("step")
    axes.grid(alpha=0.3, which="both")
    _legend_or_note(axes, empty, fontsize=7, ncol=1 + len(keys) // 12)


def plot_grad_norms(records: Records, path: str | Path) -> Path:
    """Write the gradient norm of every layer against the step, log scale.

    Keys "grad_norm/G/<layer>" and "grad_norm/D/<layer>" (any other network name
    gets its own panel too): one panel per network, one line per layer, in the
    order the layers first appear. Non-positive values are left out (log axis).
    When the records hold them (``scratchgan.gan.gradstats``), a second row shows
    "update_ratio/<network>/<layer>", ||delta W|| / ||W|| of each optimiser step, with
    a dotted line at 1e-3, and a panel of its own shows D's input-gradient norm
    ||dD/dx|| at real and generated inputs ("d_input_grad/real", "d_input_grad/fake").
    """
    networks = _networks(records) or {"G": [], "D": []}
    ratios = _networks(records, "update_ratio")
    has_input = any(key in record for record in records for key, _ in INPUT_GRAD_KEYS)
    columns = max(len(networks), len(ratios)) + (1 if has_input else 0)
    rows = 2 if ratios else 1
    figure = Figure(figsize=(6 * columns, 4.5 * rows))
    grid = np.atleast_2d(figure.subplots(rows, columns, squeeze=False))
    for axes, (network, keys) in zip(grid[0], networks.items()):
        _per_layer_panel(axes, records, keys, f"{network}: gradient norm per layer",
                         "no gradient norms logged")
    if ratios:
        for axes, (network, keys) in zip(grid[1], ratios.items()):
            _per_layer_panel(axes, records, keys,
                             f"{network}: update size / weight size per layer",
                             "no update ratios logged")
            axes.axhline(1e-3, color="gray", linestyle=":", linewidth=1)
    if has_input:
        axes = grid[0, -1]
        for key, label in INPUT_GRAD_KEYS:
            steps, values = _series(records, key, positive=True)
            if len(values):
                axes.plot(steps, values, label=label, linewidth=1)
        axes.set_yscale("log")
        axes.set_title("D: mean ||dD/dx|| at real and generated inputs")
        axes.set_xlabel("step")
        axes.grid(alpha=0.3, which="both")
        _legend_or_note(axes, "no input gradients logged")
    for axes in grid.flat:     # the cells no panel used
        if not axes.has_data() and not axes.texts and not axes.get_title():
            axes.set_axis_off()
    figure.tight_layout()
    return save_figure(figure, path)
