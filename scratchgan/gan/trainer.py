"""The GAN training loop: alternating D and G updates, n_critic, TTUR learning rates,
exact resume. The trainer is given built objects (``scratchgan.gan.build.build_trainer``
makes them from a TrainConfig) and asks none of them what it is:

One step (one generator update):
    repeat n_critic times:
        batch <- task.place(next real batch)
        L_D, metrics <- task.d_loss(G, D, loss, batch, rng);  optimiser step on D
        loss.constrain(D)                                (WGAN: clip D's weights)
    L_G, metrics <- task.g_loss(G, D, loss, batch, rng)  (D's weights frozen);  step on G
    ema.update(t);  every learning-rate scheduler steps
At log steps (``log_every``) the record also holds each layer's update size over weight
size and D's input-gradient norm at the real and generated points (``gan/gradstats.py``).
Every loss goes through the divergence guard (``gan/guard.py``: NaN/Inf stops training,
naming the step; on a GPU the check is deferred to log steps, so no step waits for the
device). The EMA of G and its batch-norm statistics live in ``gan/ema.py``, the
checkpoint files in ``gan/checkpoint.py``, the run folder in ``gan/run.py``.

Every random draw comes from generators whose states the checkpoints hold (the noise
generator, the data loader's, the global one), and the learning rates are a function of
the step, so on CPU a resumed run reproduces the losses of an uninterrupted one exactly.

Every call that computes (``train_step``, ``generate``, ``sampler``, ``save_checkpoint``)
runs inside :meth:`Trainer.scope`, which applies the run's process-wide switches (kernel
backend, TF32) and restores them after; ``Run`` enters it once around the whole loop.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from scratchgan import nn, optim
from scratchgan import random as sg_random
from scratchgan.backend import get_array_module, to_numpy
from scratchgan.config import no_grad
from scratchgan.data import DataLoader
from scratchgan.distributed.comm import Communicator, SingleProcess
from scratchgan.gan import checkpoint, gradstats
from scratchgan.gan.config import RESUME_KEYS, TrainConfig, resume_key_default
from scratchgan.gan.ema import EMA
from scratchgan.gan.guard import DivergenceGuard, TrainingDiverged
from scratchgan.gan.losses import GANLoss
from scratchgan.gan.settings import RunSettings
from scratchgan.gan.tasks import Task
from scratchgan.optim.lr_scheduler import LRScheduler

__all__ = ["Trainer", "TrainingDiverged", "frozen", "layer_grad_norms"]


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Stop gradients from being computed for ``module``'s parameters inside the block
    (gradients still flow *through* it): the G update needs no dL/dW of D."""
    params = list(module.parameters())
    for p in params:
        p.requires_grad = False
    try:
        yield
    finally:
        for p in params:
            p.requires_grad = True


def layer_grad_norms(module: nn.Module, prefix: str) -> dict[str, float]:
    """{"grad_norm/<prefix>/<param name>": ||grad||_2} for every parameter with a gradient
    (computed where the gradients live, in float64; one copy to the host for all of them)."""
    named = [(name, p.grad.data) for name, p in module.named_parameters() if p.grad is not None]
    if not named:
        return {}
    xp = get_array_module(named[0][1])
    norms = to_numpy(xp.sqrt(xp.stack([xp.sum(xp.square(g, dtype=xp.float64))
                                       for _, g in named])))
    return {f"grad_norm/{prefix}/{name}": float(v) for (name, _), v in zip(named, norms)}


class Trainer:
    """The step loop over built objects.

    data:        the real batches (a DataLoader; its position is checkpointed)
    G, D:        the generator and the discriminator, on the run's device
    opt_g/opt_d: their optimisers; ``schedulers`` set their learning rates per step
    loss:        a GANLoss (terms, penalties, clipping, how D's output reads)
    task:        what one update computes (``scratchgan.gan.tasks``)
    config:      the numbers of the loop (n_critic, steps, log_every, seed), and what a
                 checkpoint must agree with to resume this run (``RESUME_KEYS``)
    checkpoints: the checkpoint folder;  guard: the NaN/Inf check
    ema:         the EMA of G's weights, or None
    metadata:    what a checkpoint records to rebuild G alone (model, data_shape,
                 num_classes: ``scratchgan sample`` reads them; pix2pix: task,
                 input_shape, target_shape, ngf, ndf for ``scratchgan translate``)
    settings:    the process-wide switches applied while the trainer computes
    comm:        the ranks of a data-parallel job (``scratchgan.distributed``; alone a
                 SingleProcess, whose collectives return their inputs): rank 0's state is
                 broadcast at start, gradients are averaged over the ranks after every
                 backward, the noise of the global batch is drawn alike on every rank
                 and each takes its rows, and a resume loads what rank 0 read
    """

    def __init__(self, *, data: DataLoader, G: nn.Module, D: nn.Module,
                 opt_g: optim.Optimizer, opt_d: optim.Optimizer, loss: GANLoss, task: Task,
                 config: TrainConfig, checkpoints: checkpoint.Checkpoints,
                 guard: DivergenceGuard, ema: EMA | None = None,
                 schedulers: Sequence[LRScheduler] = (), metadata: dict[str, Any] | None = None,
                 settings: RunSettings = RunSettings(),
                 comm: Communicator = SingleProcess()) -> None:
        self.data, self.G, self.D, self.opt_g, self.opt_d = data, G, D, opt_g, opt_d
        self.loss, self.task, self.config = loss, task, config
        self.checkpoints, self.guard, self.ema = checkpoints, guard, ema
        self.schedulers, self.metadata = list(schedulers), dict(metadata or {})
        self.settings, self.comm = settings, comm
        self.batches = data.batches()
        self.noise_rng = comm.shard_generator(np.random.default_rng([config.seed, 1]))
        self.step = 0
        comm.broadcast_state([G, D] + ([ema.average] if ema is not None else []),
                             [opt_g, opt_d])

    def scope(self) -> contextlib.AbstractContextManager:
        """The run's process-wide switches, applied inside the block, restored after."""
        return self.settings.applied()

    # -- one step ------------------------------------------------------------
    def _metrics(self, metrics: dict[str, Any]) -> dict[str, Any]:
        return {name: self.guard.metric(v) for name, v in metrics.items()}

    def is_log_step(self, t: int) -> bool:
        """Whether step ``t`` is logged (every ``log_every`` steps, and the last)."""
        return t % self.config.log_every == 0 or t >= self.config.steps

    def train_step(self) -> dict[str, Any]:
        """One generator update (after n_critic discriminator updates); returns the metrics:
        floats, except on the GPU between log steps, where they are device scalars
        (``float(v)`` reads one; ``guard.sync`` reads and checks all)."""
        c, t = self.config, self.step + 1
        log = self.is_log_step(t)     # gradient statistics (gan/gradstats.py) at log steps only
        with self.scope():
            for i in range(c.n_critic):
                probe = gradstats.RecordingLoss(self.loss) if log and i == c.n_critic - 1 else None
                batch = self.task.place(next(self.batches))
                loss = self.loss if probe is None else probe
                loss_d, metrics = self.task.d_loss(self.G, self.D, loss, batch, self.noise_rng)
                record = {"loss_d": self.guard.check(t, "loss_d", loss_d), **self._metrics(metrics)}
                if probe is not None and probe.seen is not None:
                    record.update(gradstats.input_grad_norms(self.D, *probe.seen))
                self.D.zero_grad()
                loss_d.backward()
                self.comm.average_gradients(self.D.parameters())
                before = gradstats.weight_snapshot(self.D) if probe is not None else None
                self.opt_d.step()
                if before is not None:
                    record.update(gradstats.update_ratios(before, "D"))
                self.loss.constrain(self.D)
            with frozen(self.D):
                loss_g, metrics = self.task.g_loss(self.G, self.D, self.loss, batch, self.noise_rng)
            record.update(loss_g=self.guard.check(t, "loss_g", loss_g), **self._metrics(metrics))
            self.G.zero_grad()
            loss_g.backward()
            self.comm.average_gradients(self.G.parameters())
            before = gradstats.weight_snapshot(self.G) if log else None
            self.opt_g.step()
            if before is not None:
                record.update(gradstats.update_ratios(before, "G"))
            if self.ema is not None:
                self.ema.update(self.step)
            self.step = t
            for scheduler in self.schedulers:
                scheduler.step()
            if self.guard.defer and (log or self.guard.full):
                record = self.guard.sync(record)
        return record

    # -- state ---------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        with self.scope():
            state = {"step": self.step, "config": self.config.to_dict(), **self.metadata,
                     "G": dict(self.G.state_dict()), "D": dict(self.D.state_dict()),
                     "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                     "noise_rng": self.noise_rng.bit_generator.state,
                     "global_rng": sg_random.get_state(), "loader": self.data.state_dict()}
            if self.ema is not None:
                state["G_ema"] = self.ema.state_dict(self.step)
        return state

    def load_state_dict(self, state: dict[str, Any], source: str = "checkpoint") -> None:
        """Continue from ``state`` (a checkpoint of a run with the same RESUME_KEYS)."""
        config = state.get("config")
        if not isinstance(config, dict):
            raise checkpoint.CheckpointError(f"{source} has no config table to resume from")
        saved = {k: config.get(k, resume_key_default(k)) for k in RESUME_KEYS}
        # the widths are the DCGAN's and the U-Net's: the MLPs' sizes are fixed
        unused = ("ngf", "ndf") if self.metadata.get("model") == "mlp" else ()
        differ = [k for k in RESUME_KEYS if saved[k] != getattr(self.config, k)
                  and k not in unused]
        ema = config.get("ema", 0.0)
        if (isinstance(ema, (int, float)) and ema > 0) != (self.config.ema > 0):
            saved["ema"] = ema          # the decay may change, keeping an EMA or not may not
            differ.append("ema")
        if differ:
            detail = ", ".join(f"{k}: {saved[k]!r} there, {getattr(self.config, k)!r} here"
                               for k in differ)
            raise checkpoint.CheckpointError(f"{source} was made with a different config ({detail})")
        try:
            self.G.load_state_dict(state["G"])
            self.D.load_state_dict(state["D"])
            if self.ema is not None:
                self.ema.load_state_dict(state["G_ema"])
            # the optimisers' hyper-parameters (learning rates, betas) are this run's, as
            # built from its config; the checkpoint gives their state (moments, counts)
            for opt, key in ((self.opt_g, "opt_g"), (self.opt_d, "opt_d")):
                settings = [{k: v for k, v in g.items() if k != "params"}
                            for g in opt.param_groups]
                opt.load_state_dict(state[key])
                for group, kept in zip(opt.param_groups, settings):
                    group.update(kept)
            self.data.load_state_dict(state["loader"])
            self.noise_rng.bit_generator.state = state["noise_rng"]
            sg_random.set_state(state["global_rng"])
            step = state["step"]
            if isinstance(step, bool) or not isinstance(step, int) or step < 0:
                raise ValueError(f"step must be a non-negative integer, got {step!r}")
        except (KeyError, ValueError, TypeError, AttributeError, IndexError) as e:
            raise checkpoint.CheckpointError(f"{source} does not fit this run: "
                                             f"{type(e).__name__}: {e}") from None
        self.batches = self.data.batches()
        self.step = step
        for scheduler in self.schedulers:      # the rates are a function of the step alone
            scheduler.load_state_dict({"last_epoch": self.step, "base_lrs": scheduler.base_lrs})

    def save_checkpoint(self) -> Path:
        """Write this step's checkpoint, after the guard has checked every loss so far."""
        self.guard.sync()   # on the GPU: never write a checkpoint past an unchecked loss
        state = self.state_dict()
        bad = checkpoint.first_nonfinite(state, ("G", "D", "G_ema", "opt_g", "opt_d"))
        if bad is not None:   # losses can stay finite while weights or Adam's moments overflow
            self.guard.diverged_state(self.step, bad)
        return self.checkpoints.save(self.step, state)

    def _read_latest(self) -> tuple[dict[str, Any], str] | None:
        path = self.checkpoints.latest()
        return None if path is None else (checkpoint.load(path), str(path))

    def resume(self) -> bool:
        """Load the newest checkpoint of the run folder; False if there is none. Under
        MPI rank 0 reads it and every rank loads what it read."""
        found = self.comm.root_call(self._read_latest)
        if found is None:
            return False
        self.load_state_dict(*found)
        return True

    # -- sampling ------------------------------------------------------------
    def sampler(self) -> nn.Module:
        """The generator to sample from: the EMA one when kept, with its batch-norm
        statistics estimated for its own weights at this step."""
        if self.ema is None:
            return self.G
        with self.scope():
            return self.ema.sampler(self.step)

    def generate(self, *inputs: Any) -> np.ndarray:
        """The sampling generator's output for host ``inputs`` (for generation: noise z and
        labels or None), in eval mode, as a host array."""
        with self.scope():
            G = self.sampler()
            G.eval()
            try:
                with no_grad():
                    return to_numpy(G(*self.task.generator_args(*inputs)).data)
            finally:
                G.train()
