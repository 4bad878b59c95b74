"""The on-disk cache for generated datasets: .npz files under one folder.

The folder is ``$SCRATCHGAN_CACHE`` when set, else ``~/.cache/scratchgan``.
Files are written to a temporary name and renamed into place, so a crash or a
second process never leaves a half-written file under the final name; a file
that cannot be read back makes :func:`read_arrays` raise ValueError, which the
caller answers by making the data again.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import zipfile
from pathlib import Path

import numpy as np

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
    path.parent.mkdir(parents=True, exist_ok=True)
    # A unique name beside the target (same file system, so the rename is atomic);
    # open() rather than mkstemp so the file gets the usual umask permissions.
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temp, "xb") as file:
            np.savez(file, **arrays)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


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
