"""Datasets by name and a resumable batch iterator.

``digits``, ``ring8`` and ``grid25`` need no files; ``mnist``, ``fashion-mnist``
and ``cifar10`` are read from their published files, found locally or
downloaded and checksummed (:mod:`scratchgan.data.sources`); ``npz:PATH`` and
``folder:PATH`` read your own images (:mod:`scratchgan.data.image_files`).
Paired sets for image-to-image translation (``edges2digits``, ``paired:DIR``, ...) load
with ``load_paired`` (:mod:`scratchgan.data.paired`).

    >>> from scratchgan.data import load_dataset, DataLoader
    >>> ring = load_dataset("ring8", n=1000)
    >>> x, modes = next(DataLoader(ring, batch_size=64).batches())
    >>> x.shape, x.dtype
    ((64, 2), dtype('float32'))
"""
from scratchgan.data.datasets import DATASETS, Dataset, load_dataset, register_dataset
from scratchgan.data.digits import load_digits, make_digits
from scratchgan.data.errors import ChecksumError, DataFileError, DatasetNotFoundError
from scratchgan.data.image_files import load_npz_images, load_png_folder
from scratchgan.data.loader import DataLoader
from scratchgan.data.mixtures import (GRID25_CENTRES, GRID25_STD, RING8_CENTRES, RING8_STD,
                                      sample_grid25, sample_mixture, sample_ring8)
from scratchgan.data.paired import (PAIRED_DATASETS, PairedDataset, has_held_out, load_held_out,
                                    load_paired)
from scratchgan.data.published import load_published
from scratchgan.data.sources import DATA_ENV_VAR, search_folders

__all__ = ["Dataset", "DATASETS", "load_dataset", "register_dataset", "load_digits", "make_digits",
           "DataLoader", "RING8_CENTRES", "RING8_STD", "GRID25_CENTRES", "GRID25_STD",
           "sample_ring8", "sample_grid25", "sample_mixture", "load_published",
           "load_npz_images", "load_png_folder", "DATA_ENV_VAR", "search_folders",
           "DataFileError", "ChecksumError", "DatasetNotFoundError", "PairedDataset",
           "PAIRED_DATASETS", "load_paired", "has_held_out", "load_held_out"]
