"""Writing files atomically: every file scratchgan writes goes through :func:`atomic_write`.

The bytes go to a temporary file beside the target (a unique hidden name in the same
folder, so the final rename stays on one file system and is atomic on POSIX), are
flushed and fsynced, and the file is renamed onto the target with ``os.replace``. A
reader never sees half a file, a crash never leaves a truncated one under the final
name, and two processes writing the same file leave one whole copy. The temporary file
is opened with ``open`` (not ``mkstemp``), so it gets the usual umask permissions.
"""
from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import IO, Any, Iterator

_MODES = {"wb": "xb", "w": "x"}

#: the mark of a file scratchgan wrote, so that a later command may replace it without
#: ``--overwrite`` (``gan/outputs.py``): a PNG's Software text chunk (``PNG_METADATA``), a
#: JSON object's ``written_by`` key (``json_mark``), an .npz's ``written_by`` array
#: (``save_arrays``), a text file's first line
MARK = "scratchgan"
PNG_METADATA = {"Software": MARK}


def json_mark(command: str) -> dict[str, str]:
    """The ``written_by`` key of a JSON object that ``command`` writes."""
    return {"written_by": f"{MARK} {command}"}


def save_arrays(path: str | Path, command: str, **arrays: Any) -> Path:
    """Write ``arrays`` to the .npz at ``path`` (``np.savez``, atomically), with the mark of
    ``command`` as one more array, ``written_by`` (a string: no pickle is needed to read
    any of it)."""
    import numpy as np
    path = Path(path)
    with atomic_write(path) as fh:
        np.savez(fh, **arrays, written_by=np.array(f"{MARK} {command}"))
    return path


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file for writing (``mode`` "wb" for bytes, "w" for UTF-8 text) and
    yield it; when the block ends normally, flush, fsync and rename it onto ``path`` (its
    folder is created); when the block raises, delete it and let the error through.

        with atomic_write("run/config.toml", "w") as fh:
            fh.write(text)

    ``fh.name`` is the temporary file's path, for a check of the bytes before the rename
    (a download's digests)."""
    if mode not in _MODES:
        raise ValueError(f"atomic_write: mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temp, _MODES[mode], encoding=None if "b" in mode else "utf-8") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except OSError as e:
        temp.unlink(missing_ok=True)
        if _unnamed(e):             # a failed write (disk full, file-size limit): name the file
            raise OSError(e.errno, e.strerror, str(path)) from e
        raise
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def append_line(path: str | Path, line: str) -> None:
    """Append one line (UTF-8, newline added) to an append-only log such as metrics.jsonl; a
    crash mid-append leaves a torn last line, which the reader drops. An OSError names
    ``path``."""
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except OSError as e:
        if _unnamed(e):
            raise OSError(e.errno, e.strerror, str(path)) from e
        raise


def _unnamed(e: OSError) -> bool:
    """Whether ``e`` is the system's error of a file operation that does not say which file
    (a write's ENOSPC or EFBIG); not an error the block raised about something else (a
    download's URLError is an OSError too)."""
    return (e.filename is None and e.errno is not None and e.strerror is not None
            and type(e).__module__ == "builtins")
