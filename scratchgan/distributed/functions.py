"""Differentiable collectives and synchronised batch norm.

A data-parallel job of K ranks minimises L = (1/K) sum_k L_k, L_k the loss of rank k's
shard. Each rank back-propagates its own L_k; a value shared by all ranks (an allreduced
sum) receives on each rank only that rank's share of the gradient, so the backward of an
allreduce is an allreduce of the gradients. Made of Functions, it differentiates again:
double backward (WGAN-GP, R1) through synchronised batch norm works across ranks.

Every rank must call these in the same order (they are collectives): the ranks run the
same graph, so forward and backward meet.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from scratchgan.autograd.function import Function
from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import get_array_module
from scratchgan.functions.array import reshape, sum as sum_
from scratchgan.distributed.comm import Communicator

__all__ = ["AllReduceSum", "allreduce_sum", "SyncBatchNorm", "sync_batch_norm"]


class AllReduceSum(Function):
    """The sums over the ranks of its inputs, one flat-buffer allreduce for all of them.

    Shapes:    each y_i: like x_i (the same value on every rank)
    Gradients: gx_i = allreduce_sum(gy_i) (every rank's share of the gradient of the
               shared sum flows back to every x_i)
    Double:    the backward is this op again, closed under differentiation
    """

    def __init__(self, comm: Communicator) -> None:
        self.comm = comm

    def forward(self, *xs):
        ys = self.comm.allreduce(list(xs))
        ys = tuple(y.copy() if y is x else y for x, y in zip(xs, ys))
        return ys if len(ys) > 1 else ys[0]

    def backward(self, *gys):
        xp = get_array_module(self.inputs[0].data)
        filled = [g if g is not None else Tensor(xp.zeros(*self.output_meta[i]))
                  for i, g in enumerate(gys)]
        return AllReduceSum(self.comm)(*filled)


def allreduce_sum(comm: Communicator, *xs: Any) -> Any:
    """The sums over the ranks of Tensors ``xs`` (one Tensor or a tuple), differentiable."""
    return AllReduceSum(comm)(*xs)


def _channel_axes(x: Any) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    axes = (0,) + tuple(range(2, x.ndim))
    bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return axes, bshape, x.size // x.shape[1]


class SyncBatchNorm(Function):
    """Batch norm, training mode, with the statistics of the global batch (all ranks):
    y = gamma * (x - mu) * r + beta, mu = AR(sum x) / M, var = AR(sum (x - mu)^2) / M,
    r = (var + eps)^(-1/2), M = the values per channel over all ranks, AR = allreduce_sum.

    Shapes:    x: (n, C, *spatial) per rank; gamma, beta: (C,); y: like x
    Gradients: gbeta = sum(gy), ggamma = sum(gy * xhat) (this rank's share; the trainer
               averages parameter gradients over the ranks);
               gx = gamma * r * (gy - AR(sum gy) / M - xhat * AR(sum gy xhat) / M),
               with mu, r and xhat recomputed from x through AllReduceSum
    Double:    the backward is made of Functions (AllReduceSum among them), so it is
               differentiated across ranks like any other graph
    """

    def __init__(self, comm: Communicator, eps: float) -> None:
        self.comm, self.eps = comm, eps

    def forward(self, x, gamma, beta):
        axes, bshape, m = _channel_axes(x)
        s, count = self.comm.allreduce([x.sum(axes, dtype=np.float64),
                                        np.array([m], np.float64)])
        self.count = M = int(round(float(count[0])))
        mu = s / M
        xc = x - mu.reshape(bshape).astype(x.dtype)
        (ss,) = self.comm.allreduce([(xc * xc).sum(axes, dtype=np.float64)])
        var = ss / M
        r = (var + self.eps) ** -0.5
        self.batch_mean, self.batch_var = mu, var   # the running statistics only
        scale = (r * gamma).reshape(bshape).astype(x.dtype)
        return xc * scale + beta.reshape(bshape)

    def backward(self, gy):
        x, gamma = self.inputs[:2]
        axes, bshape, _ = _channel_axes(x)
        M, comm, C = float(self.count), self.comm, x.shape[1]
        mu = AllReduceSum(comm)(sum_(x, axes, keepdims=True)) * (1.0 / M)
        xc = x - mu
        var = AllReduceSum(comm)(sum_(xc * xc, axes, keepdims=True)) * (1.0 / M)
        r = (var + self.eps) ** -0.5
        xhat = xc * r
        gbeta = sum_(gy, axes, keepdims=True)
        ggamma = sum_(gy * xhat, axes, keepdims=True)
        all_gbeta, all_ggamma = AllReduceSum(comm)(gbeta, ggamma)
        gx = reshape(gamma, bshape) * r * (gy - all_gbeta * (1.0 / M)
                                           - xhat * all_ggamma * (1.0 / M))
        return gx, reshape(ggamma, (C,)), reshape(gbeta, (C,))


def sync_batch_norm(comm: Communicator, x: Any, gamma: Any, beta: Any,
                    eps: float = 1e-5) -> tuple[Tensor, SyncBatchNorm]:
    """Training-mode batch norm over the global batch; returns y and the Function (its
    ``batch_mean``, ``batch_var`` and ``count`` update running statistics)."""
    fn = SyncBatchNorm(comm, eps)
    return fn(x, gamma, beta), fn
