"""Datasets that need no download (digits, ring8, grid25) and a resumable batch iterator.

    >>> from scratchgan.data import load_dataset, DataLoader
    >>> ring = load_dataset("ring8", n=1000)
    >>> x, modes = next(DataLoader(ring, batch_size=64).batches())
    >>> x.shape, x.dtype
    ((64, 2), dtype('float32'))
"""
from scratchgan.data.datasets import DATASETS, Dataset, load_dataset, register_dataset
from scratchgan.data.digits import load_digits, make_digits
from scratchgan.data.loader import DataLoader
from scratchgan.data.mixtures import (GRID25_CENTRES, GRID25_STD, RING8_CENTRES, RING8_STD,
                                      sample_grid25, sample_mixture, sample_ring8)

__all__ = ["Dataset", "DATASETS", "load_dataset", "register_dataset", "load_digits", "make_digits",
           "DataLoader", "RING8_CENTRES", "RING8_STD", "GRID25_CENTRES", "GRID25_STD",
           "sample_ring8", "sample_grid25", "sample_mixture"]
