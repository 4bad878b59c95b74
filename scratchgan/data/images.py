"""Image arrays to the form every image Dataset holds: float32 (N, C, H, W) in [-1, 1].

Accepted input: uint8 (0..255) or floats in [0, 1] or [-1, 1], laid out as
(N, H, W), (N, H, W, C) or (N, C, H, W), with C = 1 (grey) or 3 (RGB).
"""
from __future__ import annotations

import numpy as np

CHANNELS = (1, 3)


def uint8_to_signed(images: np.ndarray) -> np.ndarray:
    """uint8 pixels 0..255 to float32 in [-1, 1] (0 -> -1, 255 -> 1), same shape."""
    return images.astype(np.float32) / np.float32(127.5) - np.float32(1)


def to_nchw(images: np.ndarray, source: str) -> np.ndarray:
    """``images`` (N, H, W), (N, H, W, C) or (N, C, H, W) as (N, C, H, W), C in 1 or 3.

    ``source`` names where the array came from, for the error message.
    """
    if images.ndim == 3:
        return images[:, None]
    if images.ndim == 4:
        channels_first, channels_last = images.shape[1] in CHANNELS, images.shape[3] in CHANNELS
        if channels_first and not channels_last:
            return images
        if channels_last and not channels_first:
            return images.transpose(0, 3, 1, 2)
        if channels_first and channels_last:
            raise ValueError(f"{source}: cannot tell whether images of shape {images.shape} are "
                             "(N, C, H, W) or (N, H, W, C); store them as (N, C, H, W)")
    raise ValueError(f"{source}: images must be shaped (N, H, W), (N, H, W, C) or (N, C, H, W) "
                     f"with C = 1 or 3 channels; got shape {images.shape}")


def to_signed_unit(images: np.ndarray, source: str) -> np.ndarray:
    """uint8 images, or float images in [0, 1] or [-1, 1], as float32 in [-1, 1].

    Floats with no negative value are taken to be in [0, 1]. ``source`` names
    where the array came from, for the error message.
    """
    if images.size == 0:
        raise ValueError(f"{source}: holds no images (shape {images.shape})")
    if images.dtype == np.uint8:
        return uint8_to_signed(images)
    if not np.issubdtype(images.dtype, np.floating):
        hint = (" (convert 0..255 pixels with .astype(np.uint8))"
                if np.issubdtype(images.dtype, np.integer) else "")
        raise ValueError(f"{source}: images must be uint8 or floating point, got {images.dtype}{hint}")
    if not np.all(np.isfinite(images)):
        raise ValueError(f"{source}: images hold NaN or infinite values")
    low, high = float(images.min()), float(images.max())
    if low >= 0 and high <= 1:
        return images.astype(np.float32) * np.float32(2) - np.float32(1)
    if low >= -1 and high <= 1:
        return images.astype(np.float32)
    raise ValueError(f"{source}: float images must lie in [0, 1] or [-1, 1]; they span "
                     f"[{low:g}, {high:g}]")
