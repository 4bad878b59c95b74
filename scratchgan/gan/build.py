"""The one place that reads a TrainConfig and builds the objects a Trainer is given:
the data, G and D (and the EMA's copy of G), the optimisers and their learning-rate
schedules, the loss, the task, the checkpoint folder, the divergence guard and the
process-wide settings. Names (of losses, models, optimisers, datasets) are looked up
here and nowhere in the trainer."""
from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

from scratchgan import nn, optim
from scratchgan import random as sg_random
from scratchgan.backend import as_device, cuda_module
from scratchgan.data import (PAIRED_DATASETS, Dataset, PairedDataset, has_held_out,
                             load_dataset, load_held_out, load_paired)
from scratchgan.data.paired import FILE_SCHEME as PAIRED_SCHEME
from scratchgan.distributed import Communicator, from_environment
from scratchgan.distributed.parallel import ShardedLoader, convert_sync_batchnorm, per_rank_settings
from scratchgan.gan.checkpoint import Checkpoints
from scratchgan.gan.config import TrainConfig
from scratchgan.gan.ema import EMA
from scratchgan.gan.guard import make_guard
from scratchgan.gan.init import dcgan_init
from scratchgan.gan.losses import GANLoss, LossOptions, make_loss
from scratchgan.gan.models import build_models, build_pix2pix
from scratchgan.gan.settings import RunSettings
from scratchgan.gan.tasks import GANTask, TranslationTask
from scratchgan.gan.trainer import Trainer
from scratchgan.optim.lr_scheduler import LambdaLR, LRScheduler

__all__ = ["build_trainer", "loss_from_config", "optimizer_from_config", "linear_decay",
           "is_paired", "load_pairs", "held_out_pairs"]


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
    if c.minibatch_std and not loss.batchnorm_in_d:
        raise ValueError(f"config key 'minibatch_std': loss {c.loss!r} has a gradient penalty, "
                         f"which takes each sample's own input gradient; the minibatch "
                         f"standard deviation mixes the samples of a batch")
    G, D = build_models(model, dataset.data.shape[1:], num_classes, nz=c.nz or None,
                        batchnorm_in_d=loss.batchnorm_in_d and c.d_batchnorm,
                        spectral_norm=c.spectral_norm,
                        g_conditioning=c.g_conditioning, d_conditioning=c.d_conditioning,
                        ngf=c.ngf, ndf=c.ndf, pack=c.pack, maxout=c.maxout,
                        minibatch_std=c.minibatch_std, upsample=c.g_upsample)
    if model == "dcgan":
        G.apply(dcgan_init)
        D.apply(dcgan_init)
    return G, D


def is_paired(name: str) -> bool:
    """Whether ``name`` names a paired dataset (``edges2digits``, ``paired:DIR``, ...)."""
    scheme, colon, path = name.partition(":")
    return name in PAIRED_DATASETS or bool(colon and scheme == PAIRED_SCHEME)


def load_pairs(c: TrainConfig, split: str = "train", n: int | None = None) -> PairedDataset:
    """The pairs of ``c.dataset`` (``split``, ``n`` of them drawn with the seed, None: all)
    in ``c.direction``; a ValueError naming the task when the dataset is not paired."""
    if not is_paired(c.dataset):
        raise ValueError(f"config key 'task': pix2pix trains on a paired dataset "
                         f"({', '.join(sorted(PAIRED_DATASETS))} or {PAIRED_SCHEME}:DIR); "
                         f"{c.dataset!r} holds no pairs (train it with --task gan)")
    return load_paired(c.dataset, split, c.seed, n, c.data_dir or None, c.direction)


def held_out_pairs(c: TrainConfig, n: int) -> PairedDataset:
    """n pairs of the test split (a folder's val/) of ``c.dataset``; from a folder, all of
    val/ when it holds fewer. A DatasetNotFoundError naming the folder when it has no
    val/: training pairs are never scored as held-out ones."""
    if not is_paired(c.dataset):
        return load_pairs(c, "test", n)
    return load_held_out(c.dataset, n, c.seed, c.data_dir or None, c.direction)


#: held-out pairs in the run's grids: (largest image side, pairs)
FIXED_PAIRS = ((64, 20), (10 ** 9, 8))


def _translation(c: TrainConfig, dataset: PairedDataset | None, loss: GANLoss) -> dict:
    """The pieces of a pix2pix run: its pairs, G and D, the task, the checkpoint metadata."""
    if dataset is None:
        dataset = load_pairs(c)
    elif not isinstance(dataset, PairedDataset):
        raise ValueError("task 'pix2pix' trains on a PairedDataset (scratchgan.data.load_paired)")
    batchnorm_in_d = loss.batchnorm_in_d and c.d_batchnorm
    G, D = build_pix2pix(dataset.inputs.shape[1:], dataset.targets.shape[1:], c.ngf, c.ndf,
                         batchnorm_in_d)
    size = dataset.inputs.shape[-1]
    n_fixed = next(n for side, n in FIXED_PAIRS if size <= side)
    # the grid's rows: held-out pairs where the dataset has them, else training pairs
    fixed = (held_out_pairs(c, n_fixed) if dataset.name == c.dataset
             and has_held_out(c.dataset) else dataset)
    task = TranslationTask(dataset, (fixed.inputs[:n_fixed], fixed.targets[:n_fixed]),
                           c.l1_weight, c.device)
    metadata = {"task": "pix2pix", "model": "unet", "input_shape": list(dataset.inputs.shape[1:]),
                "target_shape": list(dataset.targets.shape[1:]), "ngf": c.ngf, "ndf": c.ndf,
                "batchnorm_in_d": batchnorm_in_d, "num_classes": dataset.num_classes}
    return dict(arrays=dataset.arrays(), G=G, D=D, task=task, metadata=metadata)


def _generation(c: TrainConfig, dataset: Dataset | None, loss: GANLoss) -> dict:
    """The pieces of a generation run: its data, G and D, the task, the checkpoint metadata."""
    if dataset is None:
        if is_paired(c.dataset):
            raise ValueError(f"dataset {c.dataset!r} holds (input, target) pairs: train it "
                             f"with --task pix2pix (config key task = \"pix2pix\")")
        dataset = load_dataset(c.dataset, seed=c.seed, data_dir=c.data_dir or None)
    elif isinstance(dataset, PairedDataset):
        raise ValueError("a PairedDataset trains with task 'pix2pix', not 'gan'")
    if c.conditional and dataset.labels is None:
        raise ValueError(f"config key 'conditional': dataset {c.dataset!r} has no labels")
    model = c.model if c.model != "auto" else ("dcgan" if dataset.kind == "image" else "mlp")
    num_classes = dataset.num_classes if c.conditional else 0
    G, D = _models(c, model, dataset, num_classes, loss)
    task = GANTask(dataset, G.nz, num_classes, c.batch_size, c.device, c.seed, c.pack)
    metadata = {"model": model, "data_shape": list(dataset.data.shape[1:]),
                "num_classes": num_classes}
    return dict(arrays=dataset, G=G, D=D, task=task, metadata=metadata)


def build_trainer(config: TrainConfig, dataset: Dataset | PairedDataset | None = None,
                  comm: Communicator | None = None) -> Trainer:
    """A Trainer for ``config``. ``dataset``: train on this one instead of loading
    ``config.dataset`` (a benchmark's fixed batch, a test's few samples; a PairedDataset
    for ``task = "pix2pix"``, whose grids then show its first pairs unless its name is
    ``config.dataset``). The device and the kernel backend are checked first, before any
    data is loaded; the global random generator is seeded with ``config.seed`` before the
    models are initialised (on the host, then moved to the device).

    ``comm``: the ranks of a data-parallel job (default: detected from the environment,
    ``scratchgan.distributed``): ``batch_size`` is the global batch, each rank's task and
    loader take their share, batch norm is synchronised when ``sync_bn`` (the EMA's copy
    of G keeps its own, per-process statistics) and only the collective guard stops."""
    c = config
    comm = from_environment() if comm is None else comm
    if comm.size > 1 and c.task == "pix2pix":
        raise ValueError("task 'pix2pix' does not train under MPI yet (its dropout masks "
                         "are not split across ranks); run it in one process")
    on_gpu = as_device(c.device).is_gpu
    if on_gpu:
        cuda_module()        # DeviceUnavailable, naming what is missing: CuPy or a GPU
    settings = per_rank_settings(RunSettings.from_config(c), comm)
    with settings.applied():
        sg_random.manual_seed(c.seed)
        loss = loss_from_config(c)
        # each rank's task draws for its share of the global batch (ShardedLoader: the data)
        local = dataclasses.replace(c, batch_size=comm.shard(c.batch_size))
        parts = (_translation if c.task == "pix2pix" else _generation)(local, dataset, loss)
        G, D = parts["G"].to(c.device), parts["D"].to(c.device)  # made on the host, then moved
        task = parts["task"]
        ema = (EMA(G, copy.deepcopy(G), c.ema, task.draw_inputs, c.seed, c.batch_size)
               if c.ema > 0 else None)
        if comm.size > 1 and c.sync_bn:
            convert_sync_batchnorm(G, comm)
            convert_sync_batchnorm(D, comm)
        opt_g, opt_d = optimizer_from_config(c, G, c.lr_g), optimizer_from_config(c, D, c.lr_d)
        schedulers = ([linear_decay(opt_g, c.steps), linear_decay(opt_d, c.steps)]
                      if c.lr_decay == "linear" else [])
        checkpoints = Checkpoints(Path(c.out) / "checkpoints", c.keep_checkpoints)
        guard = make_guard(comm, defer=on_gpu, last_good=checkpoints.describe_latest)
        return Trainer(
            data=ShardedLoader(parts["arrays"], c.batch_size, comm, shuffle=True,
                               drop_last=True, seed=c.seed),
            G=G, D=D, opt_g=opt_g, opt_d=opt_d, loss=loss, task=task, config=c,
            checkpoints=checkpoints, guard=guard, ema=ema, schedulers=schedulers,
            metadata=parts["metadata"], settings=settings, comm=comm)
