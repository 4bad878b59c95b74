"""The pieces of data-parallel training over a communicator:

    ShardedLoader    every rank walks the same seeded order of global batches and takes
                     its rows [rank n, (rank + 1) n) of each (n = batch_size / size)
    SyncBatchNormLayer / convert_sync_batchnorm
                     batch-norm layers whose training statistics are the global batch's
                     (``scratchgan.distributed.functions.SyncBatchNorm``)
    per_rank_settings the run's threads split among the ranks sharing a host

The trainer itself takes a communicator (``Trainer(comm=...)``): it broadcasts rank 0's
parameters, buffers and optimiser states at start, averages gradients after every
backward (``comm.average_gradients``), draws its noise through
``comm.shard_generator`` and resumes through ``comm.root_call`` (rank 0 reads the
checkpoint, every rank loads it), and its NaN/Inf check is collective under MPI
(``scratchgan.gan.guard.DistributedGuard``).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from scratchgan import functions as F
from scratchgan.autograd.tensor import Tensor
from scratchgan.data import DataLoader
from scratchgan.distributed.comm import Communicator
from scratchgan.distributed.functions import sync_batch_norm
from scratchgan.nn import BatchNorm, Module

__all__ = ["ShardedLoader", "SyncBatchNormLayer", "convert_sync_batchnorm",
           "per_rank_settings"]


class ShardedLoader(DataLoader):
    """A DataLoader of global batches of ``batch_size`` that hands out this rank's share
    of each: the order (and the state a checkpoint saves) is the same on every rank and
    the same as one process's with this ``batch_size`` and ``seed``. A ValueError when the
    ranks do not divide ``batch_size``."""

    def __init__(self, dataset_or_arrays: Any, batch_size: int, comm: Communicator,
                 shuffle: bool = True, drop_last: bool = True, seed: int = 0) -> None:
        self.local_batch_size = comm.shard(batch_size) if isinstance(batch_size, int) \
            and not isinstance(batch_size, bool) and batch_size > 0 else batch_size
        self.comm = comm
        super().__init__(dataset_or_arrays, batch_size, shuffle, drop_last, seed)

    def _next_batch(self) -> tuple[np.ndarray, ...]:
        n = self.local_batch_size
        start = self._position * self.batch_size + self.comm.rank * n
        end = min(start + n, (self._position + 1) * self.batch_size)
        index = self._order[start:end]
        batch = tuple(a[index] for a in self.arrays)
        self._position += 1
        if self._position == len(self):
            self._start_epoch(self._epoch + 1)
        return batch


class SyncBatchNormLayer(BatchNorm):
    """A BatchNorm1d/2d whose training-mode statistics are those of the global batch
    (all ranks); eval mode and the state dict are the wrapped layer's. Made by
    :func:`convert_sync_batchnorm`, sharing the layer's parameters and buffers."""

    comm: Communicator

    @classmethod
    def wrap(cls, layer: BatchNorm, comm: Communicator) -> "SyncBatchNormLayer":
        new = cls.__new__(cls)
        new.__dict__.update(layer.__dict__)
        object.__setattr__(new, "input_ndims", layer.input_ndims)
        object.__setattr__(new, "comm", comm)
        return new

    def forward(self, x: Any, slope: float | None = None) -> Tensor:
        if not self.training or self.comm.size == 1:
            return super().forward(x, slope)
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim not in self.input_ndims or x.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNormLayer({self.num_features}) got input of shape {x.shape}")
        y, fn = sync_batch_norm(self.comm, x, self.weight, self.bias, self.eps)
        M = fn.count
        if M < 2:
            raise ValueError(f"batch norm in training mode needs more than one value per "
                             f"channel over all ranks, got {M}")
        for buffer, stat in ((self.running_mean, fn.batch_mean),
                             (self.running_var, fn.batch_var * (M / (M - 1)))):
            buffer *= 1 - self.momentum
            buffer += (self.momentum * stat).astype(buffer.dtype)
        self.num_batches_tracked += 1
        return y if slope is None else F.leaky_relu(y, slope)


def convert_sync_batchnorm(module: Module, comm: Communicator) -> Module:
    """Make every BatchNorm layer inside ``module`` a SyncBatchNormLayer over ``comm``,
    in place (the parameters, buffers and state-dict keys stay); returns ``module``."""
    for parent in list(module.modules()):
        for name, child in list(parent._modules.items()):
            if isinstance(child, BatchNorm) and not isinstance(child, SyncBatchNormLayer):
                parent._modules[name] = SyncBatchNormLayer.wrap(child, comm)
    return module


def per_rank_settings(settings: Any, comm: Communicator) -> Any:
    """``settings`` with threads = 0 (one per core) made the cores of this host divided
    among the ranks on it (at least 1), so K ranks on one host do not oversubscribe it."""
    if comm.size == 1 or settings.threads not in (0, None):
        return settings
    from scratchgan_kernels import parallel
    return dataclasses.replace(settings,
                               threads=max(1, parallel.default_workers() // comm.local_size))
