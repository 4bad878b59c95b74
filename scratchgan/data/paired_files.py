"""Paired images in the layout of the pix2pix data sets (facades, maps, edges2shoes, ...).

    DIR/train/*.jpg    each file one image: A on the left half, B on the right half
    DIR/val/*.jpg      the held-out pairs (the "test" split reads them); a set without
                       val/ trains, but has nothing to be scored on

PNG and JPEG files are read (grey or RGB; all of both splits must share one size). The
direction says which half is the input: "AtoB" (left -> right) or "BtoA".
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from scratchgan.data.errors import DataFileError, DatasetNotFoundError
from scratchgan.data.image_files import (JPEG_SUFFIXES, existing_folder, read_image_file,
                                         read_image_files)

SPLIT_FOLDERS = {"train": "train", "test": "val"}
DIRECTIONS = ("AtoB", "BtoA")
IMAGE_SUFFIXES = (".png", *JPEG_SUFFIXES)


def has_val(folder: str | Path) -> bool:
    """Whether the pix2pix-layout ``folder`` holds val/, its held-out pairs."""
    return (existing_folder(folder) / SPLIT_FOLDERS["test"]).is_dir()


def paired_files(folder: str | Path, split: str) -> list[Path]:
    """The image files of ``split`` in a pix2pix-layout ``folder``, sorted by name."""
    folder = existing_folder(folder)
    sub = folder / SPLIT_FOLDERS[split]
    if not sub.is_dir() and split == "test":
        raise DatasetNotFoundError(
            f"{folder}: has no val/ folder: no held-out pairs to score or show; put pairs "
            f"kept out of training in {sub}")
    if not sub.is_dir():
        raise DatasetNotFoundError(
            f"{folder}: no train/ folder; a paired data set holds train/ and, for scoring, "
            "val/, each file one image with A and B side by side")
    files = sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataFileError(f"{sub}: no .png or .jpg files in it")
    return files


def check_split_shapes(folder: str | Path) -> None:
    """Raise DataFileError, naming both folders and both shapes, when the images of val/
    differ in size or channels from those of train/: a translator trained on one cannot
    take the other. Each split's first file stands for it (read_image_files checks the rest)."""
    if not has_val(folder):
        return
    train, val = (paired_files(folder, split) for split in ("train", "test"))
    train_shape, val_shape = read_image_file(train[0]).shape, read_image_file(val[0]).shape
    if train_shape != val_shape:
        raise DataFileError(f"{val[0].parent}: images of shape (C, H, W) = {val_shape}, but "
                            f"{train[0].parent}'s are {train_shape}; val/ must share train/'s "
                            "size and channel count")


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
