"""A training run and its folder:

    <out>/config.toml          the full configuration
    <out>/metrics.jsonl        one JSON record per logged step (losses, D(x), D(G(z)),
                               per-layer gradient norms and update/weight ratios, D's
                               input-gradient norm at real and fake points, images/s)
    <out>/eval.jsonl           with ``eval_every`` > 0: one quality evaluation per
                               ``eval_every`` steps (scratchgan.gan.evaluate: FD, IS, KID,
                               precision/recall, classes; mode statistics for mixtures;
                               pix2pix: L1, PSNR, accuracy and its ceiling)
    <out>/samples/step-*.png   samples from the fixed noise over time (pix2pix: rows of
                               fixed held-out inputs, their translations, their targets)
    <out>/final_grid.png       the last grid (10x10; rows are classes for a conditional run)
    <out>/scores.json          with ``score_n`` > 0 (the default): the final scores of the
                               sampling generator (the metrics of eval.jsonl on ``score_n``
                               samples against as many test images, with the seconds they
                               took), also printed
    <out>/curves.png           losses and D(x) / D(G(z)) over the steps, and the scores of
                               eval.jsonl and scores.json over the steps where the run has them
    <out>/grad_norms.png       per-layer gradient norms and update ratios of G and D, and
                               D's input gradient at real vs fake points
    <out>/checkpoints/         the newest ``keep_checkpoints`` checkpoints
    <out>/tensorboard/         with ``tensorboard`` (``--tensorboard``): the metrics, the
                               evaluations, the scores and the grids as TensorBoard event
                               files (``gan/tensorboard.py``)
    <out>/changes.jsonl        settings changed on a resume: {"step", "key", "from", "to"}
    <out>/.scratchgan.lock     held (fcntl.flock) by the run using the folder

Safety (``gan/runfolder.py``): a run takes the folder's lock for its life, so a second
run into it fails at once naming the first's PID and host; a new run refuses a folder that
is not empty and not resumable unless ``overwrite`` (``--overwrite``) is given; a resume
reads and checks the checkpoint, the settings and the logs (dropping a torn last line)
before anything in the folder is rewritten; a log the run kept that is missing (its records
up to the checkpoint's step lost) is a note. Ctrl-C (SIGINT), SIGTERM (``kill``,
``timeout``, ``docker stop``, a scheduler's pre-emption) and SIGHUP (a closed terminal)
finish the current step, write its checkpoint and raise RunInterrupted, whose
``exit_status`` is the signal's 128 + N; a second signal stops at once (KeyboardInterrupt);
a signal the process ignores (``nohup``: SIGHUP) stays ignored. The plots are drawn at the
end of every run; when the run is failing, a failure to draw them is printed and the run's
own error propagates. With
``detect_anomaly`` (``--detect-anomaly``) a run the NaN guard stops is re-run from its last
good checkpoint to the failing step under ``scratchgan.inspect.detect_anomaly``, and the
guard's error carries the report (``.anomaly``: the op, its file and line; ``gan/replay.py``).
"""
from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from tqdm import tqdm

from scratchgan import viz
from scratchgan.gan import checkpoint, replay
from scratchgan.gan.build import build_trainer
from scratchgan.gan.config import UNRECORDED_KEYS, TrainConfig
from scratchgan.gan.evaluate import (MIXTURES, ImageReference, evaluate_generator,
                                     image_reference, why_unscored, write_json_atomically)
from scratchgan.gan.export import init_trainer
from scratchgan.gan.trainer import Trainer, TrainingDiverged, layer_grad_norms
from scratchgan.gan.translate import (TranslationReference, evaluate_translator,
                                      translation_reference, why_unscored_pairs)
from scratchgan.gan.runfolder import (RUN_LOGS, RunFolderError, RunFolderNotEmpty, RunLock,
                                      clear_run_files, read_jsonl, run_files)
from scratchgan.gan.tensorboard import RunBoard, require_tensorboardx
from scratchgan.io import append_line, atomic_write


#: the signals that stop a run after its step and checkpoint (SIGHUP: not on Windows)
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


class RunInterrupted(RuntimeError):
    """SIGINT (Ctrl-C), SIGTERM or SIGHUP: the run stopped after writing the checkpoint of
    the step it was on. ``signal``: the signal's number; ``exit_status``: the status a
    process the signal ended has in a shell, 128 + that number (130, 143, 129)."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signal = signum
        self.exit_status = 128 + signum


class StopSignals:
    """The stop signals (:data:`STOP_SIGNALS`) of one process's step loop: the first
    marks the step it came in (the step after, once that step's logs are written) as the
    last; a second raises KeyboardInterrupt at once. ``announce``: print on stderr what
    the first does (rank 0; the other ranks of an MPI job are silent). After each step
    :func:`step_loop` asks :meth:`agree` whether to stop: under MPI every rank asks at
    every step, and the answer is the largest signal number any rank votes for (one
    ``allreduce_max``), so all ranks stop after the same step; alone the vote is the
    answer (``SingleProcess`` returns its input)."""

    def __init__(self, step: int, steps: int, announce: bool = True) -> None:
        self.signal: int | None = None   # the first stop signal received
        self.ending = step + 1           # the step a signal lets end (past steps: none)
        self.stop_at = self.ending       # ``ending`` when the signal came
        self.steps, self.announce = steps, announce

    def handle(self, signum: int, frame: Any) -> None:
        if self.signal is not None:
            raise KeyboardInterrupt      # a second signal: at once
        self.signal, self.stop_at = signum, self.ending
        if not self.announce:
            return
        again = "Ctrl-C again" if signum == signal.SIGINT else "a second signal"
        if self.ending > self.steps:
            what = "the last checkpoint is written; finishing the final grid and scores"
        else:
            what = f"stopping after step {self.ending} to write its checkpoint"
        print(f"\n{signal.Signals(signum).name}: {what} ({again} to stop at once)",
              file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def installed(self) -> Iterator["StopSignals"]:
        """:meth:`handle` on the stop signals the process does not ignore (main thread
        only), the previous handlers restored after."""
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                if signal.getsignal(signum) != signal.SIG_IGN:
                    previous[signum] = signal.signal(signum, self.handle)
        try:
            yield self
        except SystemError as e:
            # a second signal inside a Numba kernel's call: its dispatcher can wrap the
            # handler's KeyboardInterrupt in a SystemError ("returned a result with an
            # exception set"); the stop is the KeyboardInterrupt
            if isinstance(e.__cause__, KeyboardInterrupt):
                raise e.__cause__ from None
            raise
        finally:
            for signum, handler in previous.items():   # None: a handler set outside Python
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)

    def agree(self, comm: Any, step: int) -> int:
        """After ``step`` (its logs written): the signal every rank stops on now, 0 for
        none. Collective: every rank calls it once per step."""
        self.ending = step + 1           # a signal from here on lets the next step end
        vote = self.signal if self.signal is not None and self.stop_at <= step else 0
        return comm.allreduce_max(vote)


def step_loop(trainer: Trainer, stops: StopSignals,
              after_step: Callable[[dict[str, Any]], None] = lambda record: None,
              agreed: Callable[[int], str] = lambda stop: "") -> None:
    """Train to ``config.steps``, the loop of every rank (``Run`` and
    ``distributed.launch.Follower``): each step, then ``after_step(record)`` (rank 0: the
    logs, samples, evaluations), then the ranks' agreement on a stop (``stops.agree``: on
    every rank at every step, no branch skips it), then ``agreed(signal)`` (rank 0: the
    checkpoint; it returns where the checkpoint is, for the message). A stop raises
    RunInterrupted, marked ``collective``: every rank raises it after the same step."""
    t = trainer
    while t.step < t.config.steps:
        record = t.train_step()
        after_step(record)
        stop = stops.agree(t.comm, t.step)
        where = agreed(stop)
        if stop:
            rank = f"rank {t.comm.rank} of {t.comm.size}: " if not where else ""
            where = where or "rank 0 wrote its checkpoint"
            error = RunInterrupted(f"{rank}interrupted by {signal.Signals(stop).name} at "
                                   f"step {t.step}: {where}; continue with --resume", stop)
            error.collective = True      # raised alike on every rank: no MPI_Abort
            raise error


def _write_text(path: Path, text: str) -> None:
    with atomic_write(path, "w") as fh:
        fh.write(text)


def read_metrics(path: Path, up_to_step: int | None = None) -> list[dict[str, Any]]:
    """The records of a JSON-lines log up to ``up_to_step`` (a torn last line dropped)."""
    return read_jsonl(path, up_to_step)[0]


class Run:
    """Drives a Trainer for ``config.steps`` steps and keeps its folder up to date; the
    trainer is built from ``config`` unless one is given (built from objects).

    The folder's lock is taken here and held until :meth:`run` ends (or :meth:`close`).
    ``resume``: continue from the newest checkpoint (with none, a new run starts, and
    ``notes`` says so); settings outside ``RESUME_KEYS`` may differ from the checkpoint's
    and take effect, each recorded in ``changes`` and ``changes.jsonl`` with the step.
    ``overwrite``: replace the run files of a folder that holds another run.
    ``config.init_from``: a new run (not a resumed one) starts G, D and the EMA's average
    from that weights file (``gan.export.init_trainer``, checked before the folder
    changes; under MPI the other ranks get them with rank 0's state), noted in ``notes``."""

    def __init__(self, config: TrainConfig, resume: bool = False,
                 trainer: Trainer | None = None, overwrite: bool = False) -> None:
        if trainer is not None and trainer.config != config:
            raise ValueError("Run: the trainer given was built from another config")
        self.folder = Path(config.out)
        self.notes: list[str] = []
        self.changes: list[dict[str, Any]] = []
        self.board: RunBoard | None = None     # the event files, while run() runs
        self.lock = RunLock(self.folder)
        self.lock.acquire()
        try:
            self._open(config, resume, trainer, overwrite)
        except BaseException:
            self.lock.release_and_undo()     # refused: no folder left behind
            raise

    def _open(self, config: TrainConfig, resume: bool, trainer: Trainer | None,
              overwrite: bool) -> None:
        folder = self.folder
        ckpt_folder = trainer.checkpoints.folder if trainer is not None else folder / "checkpoints"
        found = checkpoint.list_checkpoints(ckpt_folder)
        self.resumed = bool(resume and found)
        if not self.resumed:
            present = run_files(folder)
            if present and not overwrite:
                if found:
                    raise FileExistsError(
                        f"run folder {folder} already holds checkpoints: pass --resume to "
                        f"continue that run, --overwrite to replace it, or choose another --out")
                raise RunFolderNotEmpty(
                    f"run folder {folder} is not empty and holds no checkpoint to resume "
                    f"({', '.join(present)}): pass --overwrite to replace its run files, or "
                    f"choose another --out")
            if resume:
                self.notes.append(f"--resume: {ckpt_folder} holds no checkpoint; starting a "
                                  f"new run at step 0")
        self.trainer = trainer if trainer is not None else build_trainer(config)
        t = self.trainer
        if config.init_from and not self.resumed:   # a new run: G (and D) from the file
            self.notes.append(init_trainer(t, config.init_from))
        saved = self._resume(config) if self.resumed else {}
        kept = t.step if self.resumed else 0
        self.metrics_path = folder / "metrics.jsonl"
        self.eval_path = folder / "eval.jsonl"
        self.changes_path = folder / "changes.jsonl"
        logs: dict[str, list[dict[str, Any]]] = {}
        if self.resumed:       # records after the resumed step belong to a lost future
            had = ("metrics.jsonl", "eval.jsonl") if saved.get("eval_every") else ("metrics.jsonl",)
            for name in RUN_LOGS:
                if kept and name in had and not (folder / name).exists():
                    self.notes.append(f"--resume: {folder / name} is missing: its records up "
                                      f"to step {kept} are lost, and the curves start after "
                                      f"step {kept}")
                logs[name], torn = read_jsonl(folder / name, kept)
                if torn:
                    self.notes.append(f"{folder / name}: dropped a torn last line (a record "
                                      f"cut short by a crash or a full disk)")
        self._reference = self._eval_reference() if config.eval_every else None
        self.scores: dict[str, Any] | None = None
        why = why_unscored_pairs if config.task == "pix2pix" else why_unscored
        unscored = why(config.dataset)
        self._scored = bool(config.score_n) and unscored is None
        if config.score_n and unscored:
            self.notes.append(f"no scores.json at the end: {unscored}")
        if config.tensorboard:
            require_tensorboardx()
        # validated: from here on the folder changes
        if overwrite and not self.resumed:
            clear_run_files(folder)
        self.records = logs.get("metrics.jsonl", [])
        changes = logs.get("changes.jsonl", []) + self.changes
        (folder / "samples").mkdir(parents=True, exist_ok=True)
        _write_text(folder / "config.toml", config.to_toml())
        _write_text(self.metrics_path, _jsonl(self.records))
        if config.eval_every or self.eval_path.exists():
            _write_text(self.eval_path, _jsonl(logs.get("eval.jsonl", [])))
        if changes or self.changes_path.exists():
            _write_text(self.changes_path, _jsonl(changes))

    def _resume(self, config: TrainConfig) -> dict[str, Any]:
        """Load the newest checkpoint into the trainer; refuse ``steps`` below its step;
        record the settings that differ from the checkpoint's; return its config."""
        t = self.trainer
        path = t.checkpoints.latest()
        state = checkpoint.load(path)
        saved = state.get("config")
        step = state.get("step")
        if not isinstance(saved, dict) or isinstance(step, bool) or not isinstance(step, int):
            raise checkpoint.CheckpointError(f"{path} has no config or step to resume from")
        if step > config.steps:
            raise RunFolderError(
                f"--resume: {path} is at step {step}, past steps = {config.steps}: pass "
                f"--steps above {step} to train further (nothing was changed)")
        t.load_state_dict(state, source=str(path))
        self.changes = [{"step": step, "key": k, "from": saved[k], "to": v}
                        for k, v in config.to_dict().items()
                        if k in saved and saved[k] != v and k not in UNRECORDED_KEYS]
        return saved

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
        append_line(self.eval_path, json.dumps(result))
        if self.board is not None:
            self.board.scores("eval", result)
        return result

    def score(self) -> dict[str, Any]:
        """Score the sampling generator now on ``score_n`` samples (seed 0) against as many
        test images (drawn with seed 0; pix2pix: on up to ``score_n`` held-out pairs), write
        the result with its step and the seconds it took to scores.json, and return it."""
        t, c = self.trainer, self.trainer.config
        start = time.perf_counter()
        if c.task == "pix2pix":
            result = evaluate_translator(t.generate, translation_reference(c, c.score_n))
        else:
            reference = (None if c.dataset in MIXTURES else
                         image_reference(c.dataset, c.data_dir or None, n=c.score_n))
            result = evaluate_generator(t.generate, c.dataset, c.score_n, t.task.nz,
                                        t.task.num_classes, reference=reference)
        self.scores = {"step": t.step, **result,
                       "seconds": round(time.perf_counter() - start, 1)}
        write_json_atomically(self.folder / "scores.json", self.scores)
        if self.board is not None:
            self.board.scores("score", self.scores)
        return self.scores

    def _log(self, record: dict[str, Any], elapsed: float, images: int) -> None:
        t = self.trainer
        record = {"step": t.step, **record, "images_per_s": images / max(elapsed, 1e-9),
                  **layer_grad_norms(t.G, "G"), **layer_grad_norms(t.D, "D")}
        self.records.append(record)
        append_line(self.metrics_path, json.dumps(record))
        if self.board is not None:
            self.board.metrics(record)

    def save_samples(self, path: Path, title: str, tag: str = "samples") -> None:
        """The grid of the sampling generator now, as ``path`` (and image ``tag``)."""
        self.trainer.task.save_samples(self.trainer.generate, path, title)
        if self.board is not None:
            self.board.image(tag, self.trainer.step, path)

    def close(self) -> None:
        """Release the run folder's lock (run() does, when it ends)."""
        self.lock.release()

    def run(self) -> Trainer:
        """Train to ``config.steps`` inside the trainer's scope (its process-wide switches),
        then release the folder. SIGINT (Ctrl-C), SIGTERM, SIGHUP (:class:`StopSignals`:
        handled in the main thread, unless the process ignores them; the previous handlers
        restored after): the current step ends, its checkpoint is written, RunInterrupted
        says where and which signal (after the last step's checkpoint the run finishes its
        final grid and scores); a second signal raises KeyboardInterrupt at once. Under MPI
        a signal to any rank stops every rank after the same step. With ``tensorboard``
        the event files are flushed and closed however the run ends."""
        if not self.lock.held:
            self.lock.acquire()
        stops = StopSignals(self.trainer.step, self.trainer.config.steps)
        try:
            if self.trainer.config.tensorboard:
                self.board = RunBoard(self.folder, self.trainer.step)
            with self.trainer.scope(), stops.installed():
                return self._run(stops)
        finally:
            try:
                if self.board is not None:
                    self.board.close()
            finally:
                self.board = None
                self.lock.release()

    def _run(self, stops: "StopSignals") -> Trainer:
        t, c = self.trainer, self.trainer.config
        bar = tqdm(total=c.steps, initial=t.step, disable=not c.progress, unit="step",
                   dynamic_ncols=True)
        clock, images = time.perf_counter(), 0
        start = replay.start_state(t) if c.detect_anomaly else None

        def after_step(record: dict[str, Any]) -> None:      # the logs of the step
            nonlocal clock, images
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

        def agreed(stop: int) -> str:                    # its checkpoint
            if t.step % c.checkpoint_every == 0 or t.step == c.steps or stop:
                t.save_checkpoint()
            bar.update(1)
            return f"its checkpoint is {t.checkpoints.latest()}"

        try:
            step_loop(t, stops, after_step, agreed)
            self.save_samples(self.folder / "final_grid.png",
                              f"{c.dataset}, {c.loss}, step {t.step}", "final_grid")
            if self._scored:
                self.score()
        except BaseException as error:
            if isinstance(error, TrainingDiverged) and c.detect_anomaly:
                # the steps since the last good checkpoint, op by op
                error.anomaly = replay.explain_divergence(t, error, start)
            self._write_plots_best_effort()
            raise
        finally:
            bar.close()
        self.write_plots()     # with the final scores
        return t

    def _write_plots_best_effort(self) -> None:
        """The plots of a run that is failing: a failure to draw them (or a second Ctrl-C
        meanwhile) is printed on stderr and never replaces the run's own error."""
        try:
            self.write_plots()
        except (Exception, KeyboardInterrupt) as e:
            detail = (f"{e.filename}: {e.strerror}" if isinstance(e, OSError) and e.filename
                      else str(e) or type(e).__name__)
            print(f"the plots were not drawn ({detail}); the run's error follows",
                  file=sys.stderr, flush=True)

    def write_plots(self) -> None:
        """curves.png and grad_norms.png from the records so far (none: nothing drawn)."""
        if self.records:
            evals = read_jsonl(self.eval_path)[0]
            if self.scores is not None and all(e["step"] != self.scores["step"] for e in evals):
                evals.append(self.scores)
            viz.plot_training_curves(self.records, self.folder / "curves.png", evals)
            viz.plot_grad_norms(self.records, self.folder / "grad_norms.png")


def _jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)
