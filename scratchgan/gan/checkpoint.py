"""Checkpoints as plain ``.npz`` + JSON: never pickle, so a checkpoint from a
stranger cannot run code when loaded.

One file holds everything: every array of a nested state (model parameters and
buffers, optimizer moments, ...) as an npz entry, and the rest of the state
(numbers, strings, RNG states, the config) as a JSON document in the entry
``__meta__``, where each array is replaced by ``{"__array__": "<entry name>"}``.
Files are written with ``scratchgan.io.atomic_write`` (a temporary name, then a rename),
so a crash mid-write never leaves a truncated checkpoint behind.
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from scratchgan.backend import device_of, to_numpy
from scratchgan.gan.runfolder import RunFolderError
from scratchgan.io import atomic_write

FORMAT = "scratchgan-checkpoint"
VERSION = 1
_NAME = re.compile(r"^ckpt-(\d+)\.npz$")


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupted, or does not fit the run; the message says which."""


def _split(obj: Any, prefix: str, arrays: dict[str, np.ndarray]) -> Any:
    """A JSON-able copy of ``obj`` with its arrays moved into ``arrays`` (device arrays are
    copied to the host: a checkpoint holds NumPy arrays only, so a GPU run's checkpoint
    loads anywhere, and a GPU run resumes from a CPU run's)."""
    if isinstance(obj, np.ndarray) or device_of(obj).is_gpu:
        arrays[prefix] = to_numpy(obj)
        return {"__array__": prefix}
    if isinstance(obj, dict):
        return {str(k): _split(v, f"{prefix}/{k}", arrays) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split(v, f"{prefix}/{i}", arrays) for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


#: the deepest nesting a checkpoint's document may have (a run's state is 6 levels deep)
MAX_DEPTH = 32


def _join(obj: Any, arrays: Any, names: set[str], depth: int = 0, where: str = "state") -> Any:
    """The document with its array references replaced by the arrays; a CheckpointError
    (without the path: the caller adds it) for a nesting deeper than MAX_DEPTH or a
    reference to no array of the file."""
    if depth > MAX_DEPTH:
        raise CheckpointError(f"its document is nested deeper than {MAX_DEPTH} levels (at {where})")
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            name = obj["__array__"]
            if not isinstance(name, str) or name not in names or name == "__meta__":
                raise CheckpointError(f"{where} refers to an array {_short(name)} the file "
                                      f"does not hold")
            return np.array(arrays[name])
        return {k: _join(v, arrays, names, depth + 1, f"{where}/{k}") for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, arrays, names, depth + 1, f"{where}/{i}") for i, v in enumerate(obj)]
    return obj


def save(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (nested dicts/lists of arrays, numbers, strings) atomically."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    meta = {"format": FORMAT, "version": VERSION, "state": _split(state, "s", arrays)}
    with atomic_write(path) as fh:
        np.savez(fh, __meta__=np.array(json.dumps(meta)), **arrays)
    return path


def load(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save`; a clear CheckpointError otherwise."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder; give a ckpt-*.npz file in it")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if "__meta__" not in npz.files:
                raise CheckpointError(f"{path} is not a scratchgan checkpoint (no __meta__ entry)")
            try:
                meta = json.loads(str(npz["__meta__"]))
            except RecursionError:
                raise CheckpointError(f"{path}: its document is nested deeper than "
                                      f"{MAX_DEPTH} levels") from None
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise CheckpointError(f"{path} is not a scratchgan checkpoint")
            if meta.get("version") != VERSION:
                raise CheckpointError(f"{path} has checkpoint format version {meta.get('version')}; "
                                      f"this scratchgan reads version {VERSION}")
            if not isinstance(meta.get("state"), dict):
                raise CheckpointError(f"{path}: its state must be a table (a JSON object), "
                                      f"got {type(meta.get('state')).__name__}")
            try:
                return _join(meta["state"], npz, set(npz.files))
            except CheckpointError as e:
                raise CheckpointError(f"{path}: {e}") from None
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as e:
        raise CheckpointError(f"checkpoint {path} is corrupted or truncated "
                              f"({type(e).__name__}: {e})") from None


def first_nonfinite(state: dict[str, Any], keys: tuple[str, ...] | None = None) -> str | None:
    """The name of the first floating-point array in ``state`` (under ``keys``: all when
    None) that holds NaN or Inf, as ``G/net.0.weight`` or ``opt_g/state/3/exp_avg``, or None."""
    def walk(obj: Any, name: str) -> str | None:
        if isinstance(obj, dict):
            items = obj.items()
        elif isinstance(obj, (list, tuple)):
            items = enumerate(obj)
        else:
            data = obj.data if hasattr(obj, "requires_grad") else obj   # a Tensor or an array
            kind = getattr(getattr(data, "dtype", None), "kind", None)
            if kind in ("f", "c") and not bool((abs(data) < float("inf")).all()):
                return name
            return None
        for k, v in items:
            found = walk(v, f"{name}/{k}" if name else str(k))
            if found is not None:
                return found
        return None
    parts = state if keys is None else {k: state[k] for k in keys if k in state}
    return walk(parts, "")


def require_finite(state: Any, source: str, what: str = "weights") -> None:
    """CheckpointError naming the tensor when ``state`` holds NaN or Inf (a diverged
    checkpoint samples NaN images and scores as a silent zero)."""
    bad = first_nonfinite(state if isinstance(state, dict) else {"": state})
    if bad is not None:
        raise CheckpointError(f"{source}: {what} tensor {bad} holds NaN or Inf values "
                              f"(the run diverged before this checkpoint); use an earlier one")


def generator_weights(state: dict[str, Any], path: str | Path) -> dict[str, np.ndarray]:
    """The generator's weights in a checkpoint's ``state`` (its EMA when kept): a table of
    finite arrays, or a CheckpointError naming ``path`` and the tensor."""
    key = "G_ema" if "G_ema" in state else "G"
    weights = state.get(key)
    if (not isinstance(weights, dict) or not weights
            or not all(isinstance(v, np.ndarray) for v in weights.values())):
        raise CheckpointError(f"{path}: '{key}' must be a table of the generator's arrays")
    require_finite(weights, str(path), f"generator ({key})")
    return weights


def check_sizes(path: str | Path, limit: int, **sizes: Any) -> None:
    """Each of ``sizes`` (an int, or a list of 1 to 4 ints) must be a non-negative int no
    larger than ``limit``, the number of values in the arrays the checkpoint holds: a
    model built from the document is never larger than what the file actually carries."""
    for name, value in sizes.items():
        shape = isinstance(value, list) and 1 <= len(value) <= 4
        for v in value if shape else [value]:
            if (isinstance(v, bool) or not isinstance(v, int)
                    or not (1 if shape else 0) <= v <= limit):
                raise CheckpointError(f"{path}: '{name}' = {_short(value)} is not a size this "
                                      f"checkpoint's {limit} weight values can hold")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def checkpoint_path(folder: str | Path, step: int) -> Path:
    return Path(folder) / f"ckpt-{step:07d}.npz"


def list_checkpoints(folder: str | Path) -> list[tuple[int, Path]]:
    """(step, path) of the checkpoints in ``folder``, oldest first (none when it does not
    exist); a RunFolderError when ``folder`` is a file."""
    folder = Path(folder)
    if not folder.is_dir():
        if folder.exists():
            raise RunFolderError(f"{folder} is a file, not a folder of checkpoints")
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return sorted(found)


def prune(folder: str | Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints."""
    for _, path in list_checkpoints(folder)[:-keep]:
        path.unlink(missing_ok=True)


class Checkpoints:
    """A run's checkpoint folder: ``ckpt-<step>.npz`` files, the newest ``keep`` kept."""

    def __init__(self, folder: str | Path, keep: int) -> None:
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise ValueError(f"Checkpoints: keep must be a positive int, got {keep!r}")
        self.folder, self.keep = Path(folder), keep

    def save(self, step: int, state: dict[str, Any]) -> Path:
        """Write the checkpoint of ``step``, then delete all but the newest ``keep``."""
        path = save(checkpoint_path(self.folder, step), state)
        prune(self.folder, self.keep)
        return path

    def latest(self) -> Path | None:
        """The newest checkpoint, or None when the folder holds none."""
        found = list_checkpoints(self.folder)
        return found[-1][1] if found else None

    def describe_latest(self) -> str:
        """What a stopped run keeps, in words: "the last good checkpoint is <path>"."""
        latest = self.latest()
        return f"the last good checkpoint is {latest}" if latest else "no checkpoint was written yet"
