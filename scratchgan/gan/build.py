"""The one place that reads a TrainConfig and builds the objects a Trainer is given:
the data, G and D (and the EMA's copy of G), the optimisers and their learning-rate
schedules, the loss, the task, the checkpoint folder, the divergence guard and the
process-wide settings. Names (of losses, models, optimisers, datasets) are looked up
here and nowhere in the trainer."""
from __future__ import annotations

import copy
from pathlib import Path

from scratchgan import nn, optim
from scratchgan import random as sg_random
from scratchgan.backend import cuda_module
from scratchgan.data import DataLoader, Dataset, load_dataset
from scratchgan.gan.checkpoint import Checkpoints
from scratchgan.gan.config import TrainConfig
from scratchgan.gan.ema import EMA
from scratchgan.gan.guard import DivergenceGuard
from scratchgan.gan.losses import GANLoss, LossOptions, make_loss
from scratchgan.gan.models import build_models
from scratchgan.gan.settings import RunSettings
from scratchgan.gan.tasks import GANTask
from scratchgan.gan.trainer import Trainer
from scratchgan.optim.lr_scheduler import LambdaLR, LRScheduler

__all__ = ["build_trainer", "loss_from_config", "optimizer_from_config", "linear_decay"]


def loss_from_config(c: TrainConfig) -> GANLoss:
    """The GANLoss named by ``c.loss``, with the config's smoothing, weights and bound."""
    return make_loss(c.loss, LossOptions(label_smoothing=c.label_smoothing,
                                         gp_weight=c.gp_weight, clip=c.clip,
                                         r1_weight=c.r1_weight))


def optimizer_from_config(c: TrainConfig, module: nn.Module, lr: float) -> optim.Optimizer:
    """Adam(lr, (beta1, beta2)) or RMSprop(lr) over ``module``'s parameters."""
    if c.optimizer == "rmsprop":
        return optim.RMSprop(module.parameters(), lr=lr)
    return optim.Adam(module.parameters(), lr=lr, betas=(c.beta1, c.beta2))


def linear_decay(optimizer: optim.Optimizer, steps: int) -> LRScheduler:
    """``lr_decay = "linear"``: lr(t) = lr for t < T/2, then lr (T - t) / (T - T/2), which
    reaches 0 at the last step T. A function of the step alone, so a resumed run gets the
    same rates from the step it resumes at, with no scheduler state in the checkpoint."""
    half = steps // 2
    return LambdaLR(optimizer, lambda t: 1.0 if t < half else (steps - t) / (steps - half))


def _models(c: TrainConfig, model: str, dataset: Dataset, num_classes: int,
            loss: GANLoss) -> tuple[nn.Module, nn.Module]:
    G, D = build_models(model, dataset.data.shape[1:], num_classes, nz=c.nz or None,
                        batchnorm_in_d=loss.batchnorm_in_d, spectral_norm=c.spectral_norm,
                        g_conditioning=c.g_conditioning, d_conditioning=c.d_conditioning)
    if model == "dcgan":
        G.apply(nn.init.dcgan_init)
        D.apply(nn.init.dcgan_init)
    return G, D


def build_trainer(config: TrainConfig, dataset: Dataset | None = None) -> Trainer:
    """A Trainer for ``config``. ``dataset``: train on this one instead of loading
    ``config.dataset`` (a benchmark's fixed batch, a test's few samples). The device and
    the kernel backend are checked first, before any data is loaded; the global random
    generator is seeded with ``config.seed`` before the models are initialised (on the
    host, then moved to the device)."""
    c = config
    if c.device == "cuda":
        cuda_module()        # DeviceUnavailable, naming what is missing: CuPy or a GPU
    settings = RunSettings.from_config(c)
    with settings.applied():
        sg_random.manual_seed(c.seed)
        if dataset is None:
            dataset = load_dataset(c.dataset, seed=c.seed, data_dir=c.data_dir or None)
        if c.conditional and dataset.labels is None:
            raise ValueError(f"config key 'conditional': dataset {c.dataset!r} has no labels")
        model = c.model if c.model != "auto" else ("dcgan" if dataset.kind == "image" else "mlp")
        num_classes = dataset.num_classes if c.conditional else 0
        loss = loss_from_config(c)
        G, D = _models(c, model, dataset, num_classes, loss)
        G, D = G.to(c.device), D.to(c.device)     # initialised on the host, then moved
        task = GANTask(dataset, G.nz, num_classes, c.batch_size, c.device, c.seed)
        ema = (EMA(G, copy.deepcopy(G), c.ema, task.draw_inputs, c.seed, c.batch_size)
               if c.ema > 0 else None)
        opt_g, opt_d = optimizer_from_config(c, G, c.lr_g), optimizer_from_config(c, D, c.lr_d)
        schedulers = ([linear_decay(opt_g, c.steps), linear_decay(opt_d, c.steps)]
                      if c.lr_decay == "linear" else [])
        checkpoints = Checkpoints(Path(c.out) / "checkpoints", c.keep_checkpoints)
        guard = DivergenceGuard(defer=c.device == "cuda", last_good=checkpoints.describe_latest)
        return Trainer(
            data=DataLoader(dataset, c.batch_size, shuffle=True, drop_last=True, seed=c.seed),
            G=G, D=D, opt_g=opt_g, opt_d=opt_d, loss=loss, task=task, config=c,
            checkpoints=checkpoints, guard=guard, ema=ema, schedulers=schedulers,
            metadata={"model": model, "data_shape": list(dataset.data.shape[1:]),
                      "num_classes": num_classes},
            settings=settings)
