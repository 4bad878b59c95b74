"""The on-disk cache for generated datasets: .npz files under one folder.

The folder is ``$SCRATCHGAN_CACHE`` when set, else ``~/.cache/scratchgan``.
Files are written with ``scratchgan.io.atomic_write``, so a crash or a second
process never leaves a half-written file under the final name; a file
that cannot be read back makes :func:`read_arrays` raise ValueError, which the
caller answers by making the data again.
"""
from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from scratchgan.io import atomic_write

CACHE_ENV_VAR = "SCRATCHGAN_CACHE"


def cache_dir() -> Path:
    """The cache folder (not created here)."""
    configured = os.environ.get(CACHE_ENV_VAR)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "scratchgan"


def cache_path(prefix: str, params: dict) -> Path:
    """The file for a dataset made with ``params`` (JSON-able): prefix plus a hash of them."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"{prefix}-{digest}.npz"


def write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Save arrays as an uncompressed .npz at ``path``, atomically."""
    with atomic_write(path) as file:
        np.savez(file, **arrays)


def read_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays saved at ``path``, or None when the file is missing.

    Raises ValueError when the file exists but cannot be read as an .npz.
    """
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise ValueError(f"unreadable cache file {path}: {error}") from error
