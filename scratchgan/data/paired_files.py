"""Paired images in the layout of the pix2pix data sets (facades, maps, edges2shoes, ...).

    DIR/train/*.jpg    each file one image: A on the left half, B on the right half
    DIR/val/*.jpg      the held-out pairs (the "test" split reads them)

PNG and JPEG files are read (grey or RGB; all of a split must share one size). The
direction says which half is the input: "AtoB" (left -> right) or "BtoA".
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from scratchgan.data.errors import DataFileError, DatasetNotFoundError
from scratchgan.data.image_files import JPEG_SUFFIXES, read_image_files

SPLIT_FOLDERS = {"train": "train", "test": "val"}
DIRECTIONS = ("AtoB", "BtoA")
IMAGE_SUFFIXES = (".png", *JPEG_SUFFIXES)


def paired_files(folder: str | Path, split: str) -> list[Path]:
    """The image files of ``split`` in a pix2pix-layout ``folder``, sorted by name."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DatasetNotFoundError(f"{folder}: no such folder")
    sub = folder / SPLIT_FOLDERS[split]
    if not sub.is_dir():
        raise DatasetNotFoundError(
            f"{folder}: no {SPLIT_FOLDERS[split]}/ folder; a paired data set holds train/ and "
            "val/, each file one image with A and B side by side")
    files = sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataFileError(f"{sub}: no .png or .jpg files in it")
    return files


def read_pairs(files: list[Path], direction: str = "AtoB") -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets), each float32 (N, C, H, W/2) in [-1, 1], from side-by-side files."""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}; use one of {', '.join(DIRECTIONS)}")
    images = read_image_files(files)
    width = images.shape[-1]
    if width % 2:
        raise DataFileError(f"{files[0]}: width {width} is odd; a paired image holds A and B "
                            "side by side, each half as wide")
    a, b = images[..., : width // 2], images[..., width // 2:]
    return (a, b) if direction == "AtoB" else (b, a)
