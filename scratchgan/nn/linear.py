"""Dense layers: Linear (y = x W^T + b), Maxout (the max of several linear pieces) and
Embedding (a learned table of rows)."""
from __future__ import annotations

from typing import Any

import numpy as np

from scratchgan import functions as F
from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import get_array_module
from scratchgan.nn import init
from scratchgan.nn.module import Module
from scratchgan.nn.parameter import Parameter
from scratchgan.nn.validation import check_positive_int


class Linear(Module):
    """y = x W^T + b over the last axis of x.

    Shapes:  x: (..., in_features); W: (out_features, in_features); b: (out_features,);
             y: (..., out_features)
    Init:    W and b ~ U(-1/sqrt(in_features), 1/sqrt(in_features))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features = check_positive_int("Linear", "in_features", in_features)
        self.out_features = check_positive_int("Linear", "out_features", out_features)
        self.weight = Parameter(np.empty((out_features, in_features), np.float32))
        self.bias = Parameter(np.empty(out_features, np.float32)) if bias else None
        init.default_uniform_(self.weight, self.bias)

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): the input's last "
                             f"axis must have {self.in_features} features, got shape {x.shape}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Maxout(Module):
    """Maxout units (Goodfellow et al. 2013), PacGAN's discriminator units:
    y_j = max_k (x W^T + b)[j * pieces + k], k = 0 ... pieces - 1: one Linear layer of
    ``out_features * pieces`` outputs, then the max over each unit's group
    (``functions.maxout``; ties go to the first piece)."""

    def __init__(self, in_features: int, out_features: int, pieces: int) -> None:
        super().__init__()
        self.pieces = check_positive_int("Maxout", "pieces", pieces)
        self.linear = Linear(in_features, out_features * pieces)

    def forward(self, x: Any) -> Tensor:
        return F.maxout(self.linear(x), self.pieces)

    def extra_repr(self) -> str:
        return f"pieces={self.pieces}"


class Embedding(Module):
    """A table of ``num_embeddings`` learned vectors: y[..., :] = W[labels[...], :].

    Shapes:  labels: integers in [0, num_embeddings), any shape; W: (num_embeddings,
             embedding_dim); y: labels.shape + (embedding_dim,)
    Gradient: gW[k] = sum of gy over the positions where labels == k (repeated
             labels add up), through ``functions.getitem``
    Init:    W ~ N(0, 1)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int) -> None:
        super().__init__()
        self.num_embeddings = check_positive_int("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = check_positive_int("Embedding", "embedding_dim", embedding_dim)
        self.weight = init.normal_(Parameter(np.empty((num_embeddings, embedding_dim), np.float32)))

    def forward(self, labels: Any) -> Tensor:
        index = labels.data if isinstance(labels, Tensor) else labels
        index = get_array_module(index).asarray(index)
        if index.dtype.kind not in "iu":
            raise TypeError(f"Embedding({self.num_embeddings}, {self.embedding_dim}): labels "
                            f"must be integers, got dtype {index.dtype}")
        if index.size and (int(index.min()) < 0 or int(index.max()) >= self.num_embeddings):
            raise ValueError(f"Embedding({self.num_embeddings}, {self.embedding_dim}): labels must "
                             f"be integers in [0, {self.num_embeddings}), got values from "
                             f"{int(index.min())} to {int(index.max())}")
        return F.getitem(self.weight, index)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
