"""Embedded datasets (digits, ring8, grid25) and batching."""
from scratchgan.data.datasets import DATASETS, Dataset, load_dataset
from scratchgan.data.digits import load_digits
from scratchgan.data.loader import DataLoader
from scratchgan.data.mixtures import (GRID25_CENTRES, GRID25_STD, RING8_CENTRES, RING8_STD,
                                      sample_grid25, sample_mixture, sample_ring8)

__all__ = ["Dataset", "DATASETS", "load_dataset", "load_digits", "DataLoader", "RING8_CENTRES",
           "RING8_STD", "GRID25_CENTRES", "GRID25_STD", "sample_ring8", "sample_grid25",
           "sample_mixture"]
