"""Reading gzipped IDX files, the format of MNIST and Fashion-MNIST.

An IDX file of unsigned bytes is big-endian: a 4-byte magic number (two zero
bytes, the type code 0x08 for uint8, the number of dimensions D), then D uint32
sizes, then the product of the sizes in bytes, row-major. Images have D = 3
(magic 2051: count, rows, cols), labels D = 1 (magic 2049: count). A file is
read whole and checked: the magic, the sizes, and that the payload holds
exactly the bytes the sizes promise.
"""
from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from scratchgan.data.errors import DataFileError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


def read_idx(path: Path, magic: int) -> np.ndarray:
    """The uint8 array stored in the gzipped IDX file at ``path``, whose header
    must start with ``magic`` (its last byte is the number of dimensions)."""
    try:
        with gzip.open(path, "rb") as file:
            raw = file.read()
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DataFileError(f"{path}: not a complete gzip file ({error})") from error
    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    found_magic = int.from_bytes(raw[:4], "big")
    if len(raw) >= 4 and found_magic != magic:
        raise DataFileError(f"{path}: magic number {found_magic} (0x{found_magic:08x}), expected "
                            f"{magic} (0x{magic:08x}) for a uint8 IDX file of {ndim} dimensions")
    if len(raw) < header_size:
        raise DataFileError(f"{path}: {len(raw)} bytes is too short for an IDX header "
                            f"of {header_size} bytes")
    shape = tuple(int(size) for size in np.frombuffer(raw, ">u4", ndim, offset=4))
    expected = math.prod(shape)
    payload = len(raw) - header_size
    if payload != expected:
        raise DataFileError(f"{path}: sizes {shape} promise {expected} bytes of data, the file "
                            f"holds {payload} ({'truncated' if payload < expected else 'extra bytes'})")
    return np.frombuffer(raw, np.uint8, offset=header_size).reshape(shape)


def read_idx_images(path: Path) -> np.ndarray:
    """Images (N, rows, cols) uint8 from an IDX image file (magic 2051)."""
    images = read_idx(path, IMAGES_MAGIC)
    if 0 in images.shape:
        raise DataFileError(f"{path}: no images (sizes {images.shape})")
    return images


def read_idx_labels(path: Path) -> np.ndarray:
    """Labels (N,) int64 from an IDX label file (magic 2049)."""
    return read_idx(path, LABELS_MAGIC).astype(np.int64)
