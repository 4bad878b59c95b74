"""A training run and its folder:

    <out>/config.toml          the full configuration
    <out>/metrics.jsonl        one JSON record per logged step (losses, D(x), D(G(z)),
                               per-layer gradient norms, images/s)
    <out>/eval.jsonl           with ``eval_every`` > 0: one quality evaluation per
                               ``eval_every`` steps (scratchgan.gan.evaluate: FD, IS, KID,
                               precision/recall, classes; mode statistics for mixtures;
                               pix2pix: L1, PSNR, accuracy and its ceiling)
    <out>/samples/step-*.png   samples from the fixed noise over time (pix2pix: rows of
                               fixed held-out inputs, their translations, their targets)
    <out>/final_grid.png       the last grid (10x10; rows are classes for a conditional run)
    <out>/curves.png           losses and D(x) / D(G(z)) over the steps
    <out>/grad_norms.png       per-layer gradient norms of G and D
    <out>/checkpoints/         the newest ``keep_checkpoints`` checkpoints
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from scratchgan import viz
from scratchgan.gan.build import build_trainer
from scratchgan.gan.config import TrainConfig
from scratchgan.gan.evaluate import MIXTURES, ImageReference, evaluate_generator, image_reference
from scratchgan.gan.trainer import Trainer, layer_grad_norms
from scratchgan.gan.translate import (TranslationReference, evaluate_translator,
                                      translation_reference)
from scratchgan.io import atomic_write


def _write_text(path: Path, text: str) -> None:
    with atomic_write(path, "w") as fh:
        fh.write(text)


def read_metrics(path: Path, up_to_step: int | None = None) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in records if up_to_step is None or r["step"] <= up_to_step]


class Run:
    """Drives a Trainer for ``config.steps`` steps and keeps its folder up to date; the
    trainer is built from ``config`` unless one is given (built from objects)."""

    def __init__(self, config: TrainConfig, resume: bool = False,
                 trainer: Trainer | None = None) -> None:
        if trainer is not None and trainer.config != config:
            raise ValueError("Run: the trainer given was built from another config")
        self.trainer = trainer if trainer is not None else build_trainer(config)
        self.folder = Path(config.out)
        has_checkpoints = self.trainer.checkpoints.latest() is not None
        if has_checkpoints and not resume:
            raise FileExistsError(f"run folder {self.folder} already holds checkpoints: pass "
                                  f"--resume to continue that run, or choose another --out")
        self.resumed = resume and self.trainer.resume()
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "samples").mkdir(exist_ok=True)
        _write_text(self.folder / "config.toml", config.to_toml())
        self.metrics_path = self.folder / "metrics.jsonl"
        self.eval_path = self.folder / "eval.jsonl"
        # records after the resumed step belong to a lost future: drop them
        kept = self.trainer.step if self.resumed else 0
        self.records = read_metrics(self.metrics_path, kept)
        _write_text(self.metrics_path, "".join(json.dumps(r) + "\n" for r in self.records))
        if config.eval_every or self.eval_path.exists():
            _write_text(self.eval_path, "".join(
                json.dumps(r) + "\n" for r in read_metrics(self.eval_path, kept)))
        self._reference = self._eval_reference() if config.eval_every else None

    def _eval_reference(self) -> ImageReference | TranslationReference | None:
        """What ``eval_every`` needs, checked before training starts: for pix2pix
        ``eval_n`` held-out pairs and their classifier; the classifier and test-set features
        for an image dataset, nothing for a mixture."""
        t, c = self.trainer, self.trainer.config
        if c.task == "pix2pix":
            return translation_reference(c, c.eval_n)
        if t.task.dataset.kind == "image":
            return image_reference(c.dataset, c.data_dir or None)
        if c.dataset not in MIXTURES:
            raise ValueError(f"config key 'eval_every': dataset {c.dataset!r} has no metrics "
                             f"(points datasets with metrics: {', '.join(MIXTURES)})")
        return None

    def evaluate(self) -> dict[str, Any]:
        """Score the sampling generator now (``eval_n`` samples, seed 0; pix2pix: L1, PSNR
        and accuracy on ``eval_n`` held-out pairs) and append the result to eval.jsonl."""
        t, c = self.trainer, self.trainer.config
        if isinstance(self._reference, TranslationReference):
            result = {"step": t.step, **evaluate_translator(t.generate, self._reference)}
        else:
            result = {"step": t.step, **evaluate_generator(
                t.generate, c.dataset, c.eval_n, t.task.nz, t.task.num_classes,
                reference=self._reference)}
        with open(self.eval_path, "a") as fh:
            fh.write(json.dumps(result) + "\n")
        return result

    def _log(self, record: dict[str, Any], elapsed: float, images: int) -> None:
        t = self.trainer
        record = {"step": t.step, **record, "images_per_s": images / max(elapsed, 1e-9),
                  **layer_grad_norms(t.G, "G"), **layer_grad_norms(t.D, "D")}
        self.records.append(record)
        with open(self.metrics_path, "a") as fh:
            fh.write(json.dumps(record) + "\n")

    def save_samples(self, path: Path, title: str) -> None:
        self.trainer.task.save_samples(self.trainer.generate, path, title)

    def run(self) -> Trainer:
        """Train to ``config.steps`` inside the trainer's scope (its process-wide switches)."""
        with self.trainer.scope():
            return self._run()

    def _run(self) -> Trainer:
        t, c = self.trainer, self.trainer.config
        bar = tqdm(total=c.steps, initial=t.step, disable=not c.progress, unit="step",
                   dynamic_ncols=True)
        clock, images = time.perf_counter(), 0
        try:
            while t.step < c.steps:
                record = t.train_step()
                images += c.batch_size * c.n_critic
                last = t.step == c.steps
                if t.step % c.log_every == 0 or last:
                    self._log(record, time.perf_counter() - clock, images)
                    clock, images = time.perf_counter(), 0
                    bar.set_postfix(loss_d=f"{record['loss_d']:.3f}", loss_g=f"{record['loss_g']:.3f}",
                                    d_real=f"{record['d_real']:.2f}", d_fake=f"{record['d_fake']:.2f}")
                if t.step % c.sample_every == 0 or last:
                    self.save_samples(self.folder / "samples" / f"step-{t.step:07d}.png",
                                      f"{c.dataset}, step {t.step}")
                if c.eval_every and (t.step % c.eval_every == 0 or last):
                    self.evaluate()
                if t.step % c.checkpoint_every == 0 or last:
                    t.save_checkpoint()
                bar.update(1)
        finally:
            bar.close()
            self.write_plots()
        self.save_samples(self.folder / "final_grid.png", f"{c.dataset}, {c.loss}, step {t.step}")
        return t

    def write_plots(self) -> None:
        if self.records:
            viz.plot_training_curves(self.records, self.folder / "curves.png")
            viz.plot_grad_norms(self.records, self.folder / "grad_norms.png")
