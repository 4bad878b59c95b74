"""The GAN training loop: alternating D and G updates, n_critic, TTUR learning
rates, an EMA of G's weights, exact resume, and a run folder worth opening.

One step (one generator update):
    repeat n_critic times:
        x, y <- next real batch;  fake <- G(z, y) without a graph
        L_D = d_loss(D(x, y), D(fake, y)) [+ lambda GP] [+ gamma/2 R1];  Adam step on D
        (WGAN: clip D's weights to [-c, c])
    fake <- G(z', y);  L_G = g_loss(D(fake, y));  Adam step on G (D's weights frozen)
    G_ema <- d G_ema + (1 - d) G, d = min(ema, (1 + t) / (10 + t))  (warm-up)
Before G_ema samples or is saved, its batch-norm statistics are estimated for its own
weights from a few batches of noise (G's belong to G's weights).

Every random draw comes from generators whose states the checkpoints hold (the
noise generator, the data loader's, the global one), so on CPU a resumed run
reproduces the losses of an uninterrupted one exactly.

Devices (``device = "cuda"``): the models are built and initialised on the host, then
moved to the GPU with ``Module.to``; every random number (noise, labels, the WGAN-GP
interpolation weights, initial weights) is still drawn on the host from the same
generators, so a GPU run draws exactly the numbers of a CPU run with the same seed. Each
real batch and each noise draw is copied to the GPU once, as it is drawn (labels stay on
the host; the layers that take them copy them). Nothing inside a step waits for the GPU:
the losses and mean D outputs stay device scalars until a log step (``log_every``, the
last step) or a checkpoint, where the pending values of all steps since the last one come
back in one copy and are checked for NaN/Inf in step order (the error names the first bad
step; checkpoints are only written after that check, so the last one kept is good).
Other host reads: the gradient norms (one copy per model, at log steps), the sample grids
and checkpoints (at their steps), and an ``Embedding``'s label range check when it is
given device labels (the trainer gives host labels).
"""
from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any, Iterator

import numpy as np

import scratchgan_kernels
from scratchgan import nn, optim
from scratchgan import random as sg_random
from scratchgan.autograd import Tensor
from scratchgan.backend import cuda_module, get_array_module, to_device, to_numpy
from scratchgan.config import Config, no_grad
from scratchgan.data import DataLoader, load_dataset
from scratchgan.gan import checkpoint
from scratchgan.gan.config import TrainConfig
from scratchgan.gan.losses import LOSSES, d_loss_bce, gradient_penalty, r1_penalty
from scratchgan.gan.models import build_models

#: batches of noise that estimate the EMA generator's batch-norm statistics
EMA_STATISTICS_BATCHES = 10
#: on the GPU, the most metric values kept on the device before a host copy and NaN check
MAX_PENDING_METRICS = 4096

#: config keys that must agree between a checkpoint and the run resuming it
RESUME_KEYS = ("dataset", "model", "loss", "conditional", "g_conditioning", "d_conditioning",
               "spectral_norm", "nz", "optimizer", "ema", "seed", "batch_size")


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the message names the step and the loss."""


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
    """Builds data, models and optimizers from a TrainConfig and runs the loop."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = c = config
        self.device = c.device
        if c.device == "cuda":
            cuda_module()        # DeviceUnavailable, naming what is missing: CuPy or a GPU
        # on the GPU, metrics stay on the device until a log step (see the module docstring)
        self._defer_metrics = c.device == "cuda"
        self._pending: list[tuple[int, str, Any]] = []
        if c.kernels != "default":
            if c.kernels == "cuda":
                raise ValueError("config key 'kernels': 'cuda' is not a CPU kernel backend; "
                                 "train on the GPU with device = 'cuda' (--device cuda)")
            if c.kernels not in scratchgan_kernels.available_backends():
                raise ValueError(f"config key 'kernels': backend {c.kernels!r} is not available "
                                 f"here; available: {', '.join(scratchgan_kernels.available_backends())}")
            Config.cpu_kernels = c.kernels
        sg_random.manual_seed(c.seed)
        self.dataset = load_dataset(c.dataset, seed=c.seed, data_dir=c.data_dir or None)
        if c.conditional and self.dataset.labels is None:
            raise ValueError(f"config key 'conditional': dataset {c.dataset!r} has no labels")
        self.model_name = c.model if c.model != "auto" else (
            "dcgan" if self.dataset.kind == "image" else "mlp")
        self.num_classes = self.dataset.num_classes if c.conditional else 0
        self.G, self.D = self._build()
        self.nz = self.G.nz
        self.G_ema, self._ema_statistics_step = None, None
        if c.ema > 0:
            self.G_ema = self._build()[0]
            self.G_ema.load_state_dict(self.G.state_dict())
        self.opt_g, self.opt_d = self._optimizer(self.G, c.lr_g), self._optimizer(self.D, c.lr_d)
        self.loader = DataLoader(self.dataset, c.batch_size, shuffle=True, drop_last=True, seed=c.seed)
        self.batches = self.loader.batches()
        self.noise_rng = np.random.default_rng([c.seed, 1])
        fixed = np.random.default_rng([c.seed, 2])
        n_fixed = 100 if self.dataset.kind == "image" else 2500
        self.fixed_z = fixed.standard_normal((n_fixed, self.nz)).astype(np.float32)
        self.fixed_labels = (np.repeat(np.arange(self.num_classes), -(-n_fixed // self.num_classes))[:n_fixed]
                             if self.num_classes else None)
        self.loss = LOSSES[c.loss]
        self.step = 0
        self.folder = Path(c.out)
        self.checkpoint_folder = self.folder / "checkpoints"

    # -- construction --------------------------------------------------------
    def _build(self) -> tuple[nn.Module, nn.Module]:
        c = self.config
        G, D = build_models(self.model_name, self.dataset.data.shape[1:], self.num_classes,
                            nz=c.nz or None, batchnorm_in_d=c.loss != "wgan-gp" and not c.r1_weight,
                            spectral_norm=c.spectral_norm, g_conditioning=c.g_conditioning,
                            d_conditioning=c.d_conditioning)
        if self.model_name == "dcgan":
            G.apply(nn.init.dcgan_init)
            D.apply(nn.init.dcgan_init)
        return G.to(c.device), D.to(c.device)   # initialised on the host, then moved

    def _optimizer(self, module: nn.Module, lr: float) -> optim.Optimizer:
        c = self.config
        if c.optimizer == "rmsprop":
            return optim.RMSprop(module.parameters(), lr=lr)
        return optim.Adam(module.parameters(), lr=lr, betas=(c.beta1, c.beta2))

    # -- one step ------------------------------------------------------------
    def _to_device(self, a: Any) -> Any:
        """A host array on the run's device (one copy to the GPU; itself on CPU)."""
        return a if self.device == "cpu" else to_device(a, self.device)

    def _noise(self, n: int) -> Any:
        """n noise vectors, drawn on the host, on the run's device."""
        return self._to_device(self.noise_rng.standard_normal((n, self.nz)).astype(np.float32))

    def _next_batch(self) -> tuple[Any, np.ndarray | None]:
        """(images on the run's device, host labels or None)."""
        batch = next(self.batches)
        return self._to_device(batch[0]), (batch[1] if self.num_classes else None)

    def _diverged(self, step: int, name: str, v: float) -> None:
        last = checkpoint.list_checkpoints(self.checkpoint_folder)
        kept = f"the last good checkpoint is {last[-1][1]}" if last else "no checkpoint was written yet"
        raise TrainingDiverged(f"step {step}: {name} is {v}; training stopped ({kept})")

    def _check_finite(self, name: str, value: Tensor) -> Any:
        """The loss as a float, checked for NaN/Inf; on the GPU the device scalar, queued for
        the check at the next log step (no host sync inside the step)."""
        if self._defer_metrics:
            self._pending.append((self.step + 1, name, value.data))
            return value.data
        v = value.item()
        if not math.isfinite(v):
            self._diverged(self.step + 1, name, v)
        return v

    def sync_metrics(self, record: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Bring the metrics kept on the device to the host in one copy: check every pending
        loss for NaN/Inf in step order (TrainingDiverged names the first bad step), and
        return ``record`` with its values as floats. Nothing to do on CPU."""
        keys = list(record) if record is not None else []
        values = [v for _, _, v in self._pending] + [record[k] for k in keys]
        if not values:
            return record
        xp = get_array_module(*values)
        host = to_numpy(xp.stack([xp.asarray(v).reshape(()).astype(xp.float64) for v in values]))
        pending, self._pending = self._pending, []
        for (step, name, _), v in zip(pending, host):
            if not math.isfinite(v):
                self._diverged(step, name, float(v))
        return {k: float(v) for k, v in zip(keys, host[len(pending):])} \
            if record is not None else None

    def _d_step(self) -> dict[str, float]:
        c = self.config
        x, y = self._next_batch()
        with no_grad():
            fake = self.G(self._noise(len(x)), y).data
        real_out, fake_out = self.D(x, y), self.D(fake, y)
        if self.loss.d_loss is d_loss_bce:
            loss_d = d_loss_bce(real_out, fake_out, real_label=1.0 - c.label_smoothing)
        else:
            loss_d = self.loss.d_loss(real_out, fake_out)
        if c.loss == "wgan-gp":
            loss_d = loss_d + c.gp_weight * gradient_penalty(lambda t: self.D(t, y), x, fake,
                                                             self.noise_rng)
        if c.r1_weight:
            loss_d = loss_d + 0.5 * c.r1_weight * r1_penalty(lambda t: self.D(t, y), x)
        value = self._check_finite("loss_d", loss_d)
        self.D.zero_grad()
        loss_d.backward()
        self.opt_d.step()
        if c.loss == "wgan":
            for p in self.D.parameters():
                get_array_module(p.data).clip(p.data, -c.clip, c.clip, out=p.data)
        return {"loss_d": value, "d_real": self._report(real_out), "d_fake": self._report(fake_out)}

    def _report(self, out: Tensor) -> Any:
        """mean D(x): the probability sigmoid(logit) for BCE losses, else the raw score (a
        float; on the GPU a device scalar until the next log step)."""
        v = out.data.astype(np.float64)
        xp = get_array_module(v)
        m = xp.mean(0.5 * (1 + xp.tanh(0.5 * v))) if self.loss.logits_are_probabilities \
            else xp.mean(v)
        return m if self._defer_metrics else float(m)

    def _g_step(self, y: np.ndarray | None) -> float:
        with frozen(self.D):
            fake_out = self.D(self.G(self._noise(self.config.batch_size), y), y)
            loss_g = self.loss.g_loss(fake_out)
        value = self._check_finite("loss_g", loss_g)
        self.G.zero_grad()
        loss_g.backward()
        self.opt_g.step()
        return value

    def _update_ema(self) -> None:
        """G_ema <- d G_ema + (1 - d) G with d = min(ema, (1 + t) / (10 + t)) at step t: the
        warm-up keeps the average from being dominated by the initial weights early on."""
        decay = min(self.config.ema, (1 + self.step) / (10 + self.step))
        ema_state = dict(self.G_ema.named_parameters())
        for name, p in self.G.named_parameters():
            e = ema_state[name].data
            e *= decay
            e += (1 - decay) * p.data

    def _set_learning_rates(self) -> None:
        """``lr_decay = "linear"``: lr(t) = lr for t < T/2, then lr (T - t) / (T - T/2), which
        reaches 0 at the last step T. Computed from the step alone, so a resumed run gets
        the same rates without any scheduler state in the checkpoint."""
        c = self.config
        if c.lr_decay == "none":
            return
        half = c.steps // 2
        factor = 1.0 if self.step < half else (c.steps - self.step) / (c.steps - half)
        for opt, lr in ((self.opt_g, c.lr_g), (self.opt_d, c.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr * factor

    def train_step(self) -> dict[str, Any]:
        """One generator update (after n_critic discriminator updates); returns the metrics:
        floats, except on the GPU between log steps, where they are device scalars
        (``float(v)`` reads one; ``sync_metrics`` reads and checks all)."""
        self._set_learning_rates()
        for _ in range(self.config.n_critic):
            record = self._d_step()
        y = (self.noise_rng.integers(0, self.num_classes, self.config.batch_size)
             if self.num_classes else None)
        record["loss_g"] = self._g_step(y)
        if self.G_ema is not None:
            self._update_ema()
        self.step += 1
        if self._defer_metrics:
            c = self.config
            if (self.step % c.log_every == 0 or self.step >= c.steps
                    or len(self._pending) >= MAX_PENDING_METRICS):
                record = self.sync_metrics(record)
        return record

    # -- state ---------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        state = {"step": self.step, "config": self.config.to_dict(), "model": self.model_name,
                 "data_shape": list(self.dataset.data.shape[1:]), "num_classes": self.num_classes,
                 "G": dict(self.G.state_dict()), "D": dict(self.D.state_dict()),
                 "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                 "noise_rng": self.noise_rng.bit_generator.state,
                 "global_rng": sg_random.get_state(), "loader": self.loader.state_dict()}
        if self.G_ema is not None:
            state["G_ema"] = dict(self.sampler().state_dict())
        return state

    def load_state_dict(self, state: dict[str, Any], source: str = "checkpoint") -> None:
        saved = state.get("config", {})
        differ = [k for k in RESUME_KEYS if saved.get(k) != getattr(self.config, k)]
        if differ:
            detail = ", ".join(f"{k}: {saved.get(k)!r} there, {getattr(self.config, k)!r} here"
                               for k in differ)
            raise checkpoint.CheckpointError(f"{source} was made with a different config ({detail})")
        try:
            self.G.load_state_dict(state["G"])
            self.D.load_state_dict(state["D"])
            if self.G_ema is not None:
                self.G_ema.load_state_dict(state["G_ema"])
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
            self.loader.load_state_dict(state["loader"])
        except (KeyError, ValueError) as e:
            raise checkpoint.CheckpointError(f"{source} does not fit this run: {e}") from None
        self.batches = self.loader.batches()
        self.noise_rng.bit_generator.state = state["noise_rng"]
        sg_random.set_state(state["global_rng"])
        self.step = int(state["step"])
        self._ema_statistics_step = None

    def save_checkpoint(self) -> Path:
        self.sync_metrics()   # on the GPU: never write a checkpoint past an unchecked loss
        path = checkpoint.save(checkpoint.checkpoint_path(self.checkpoint_folder, self.step),
                               self.state_dict())
        checkpoint.prune(self.checkpoint_folder, self.config.keep_checkpoints)
        return path

    def resume(self) -> bool:
        """Load the newest checkpoint of the run folder; False if there is none."""
        found = checkpoint.list_checkpoints(self.checkpoint_folder)
        if not found:
            return False
        path = found[-1][1]
        self.load_state_dict(checkpoint.load(path), source=str(path))
        return True

    # -- sampling ------------------------------------------------------------
    def sampler(self) -> nn.Module:
        """The generator to sample from: the EMA one when kept, with its batch-norm
        statistics estimated for its own weights at this step."""
        if self.G_ema is None:
            return self.G
        if self._ema_statistics_step != self.step:
            self._estimate_ema_statistics()
        return self.G_ema

    def _estimate_ema_statistics(self) -> None:
        """G's running statistics belong to G's weights, not to their average: estimate
        G_ema's own from EMA_STATISTICS_BATCHES batches of noise (and labels), drawn from a
        generator seeded by (seed, step) so that sampling never moves the training's
        random streams (resume stays exact)."""
        rng = np.random.default_rng([self.config.seed, 3, self.step])
        n = self.config.batch_size

        def forward() -> None:
            z = self._to_device(rng.standard_normal((n, self.nz)).astype(np.float32))
            self.G_ema(z, rng.integers(0, self.num_classes, n) if self.num_classes else None)

        nn.estimate_batch_norm_statistics(self.G_ema, forward, EMA_STATISTICS_BATCHES)
        self.G_ema.train()
        self._ema_statistics_step = self.step

    def generate(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        G = self.sampler()
        G.eval()
        try:
            with no_grad():
                return to_numpy(G(self._to_device(z), labels).data)
        finally:
            G.train()
