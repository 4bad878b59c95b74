"""The safety of a run folder: what is in it, who holds it, and its append-only logs.

- :class:`RunLock`: an exclusive OS-level lock (``fcntl.flock``) on ``<out>/.scratchgan.lock``
  for the life of a run. The kernel drops it when the process ends, however it ends
  (``kill -9`` included), so a stale lock never blocks a resume; a second run into the
  same folder fails at once, naming the holder's PID and host (which the holder writes
  into the lock file: the one file written in place, because the lock belongs to its
  inode, which ``atomic_write``'s rename would replace).
- :func:`run_files`: what a folder holds that a run would replace, in words, so a new run
  refuses a folder that is not empty and not resumable unless ``--overwrite`` is given;
  :func:`clear_run_files` removes only the files a run writes (never anything else).
- :func:`read_jsonl`: ``metrics.jsonl``, ``eval.jsonl``, ``changes.jsonl`` read back for a
  resume: a torn last line (a crash or a full disk mid-append) is dropped, every other
  broken line is an error naming the file and the line.
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; runs are not locked there
    fcntl = None

__all__ = ["LOCK_NAME", "RUN_LOGS", "RunFolderError", "RunFolderInUse", "RunFolderNotEmpty",
           "RunLock", "run_files", "run_folder_holding", "is_run_folder", "clear_run_files",
           "read_jsonl"]

LOCK_NAME = ".scratchgan.lock"
#: the append-only logs of a run folder
RUN_LOGS = ("metrics.jsonl", "eval.jsonl", "changes.jsonl")
#: the files a run writes at the top of its folder, and the patterns inside its subfolders
_RUN_FILES = ("config.toml", *RUN_LOGS, "final_grid.png", "scores.json", "curves.png",
              "grad_norms.png")
_RUN_GLOBS = (("samples", "step-*.png"), ("checkpoints", "ckpt-*.npz"),
              ("checkpoints", "ckpt-*.eval.json"), ("tensorboard", "events.out.tfevents.*"))


class RunFolderError(ValueError):
    """A run folder cannot be used as asked; the message names the folder or file and why."""


class RunFolderInUse(RunFolderError):
    """Another process holds the run folder's lock."""


class RunFolderNotEmpty(FileExistsError):
    """The run folder holds another run's files and nothing to resume."""


class RunLock:
    """An exclusive lock on a run folder, held from :meth:`acquire` to :meth:`release` (or
    to the end of the process)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None
        self._made: list[Path] = []   # the folders acquire created, innermost first

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> "RunLock":
        """Take the lock (the folder is created) or raise RunFolderInUse naming the holder."""
        if self._fd is not None or fcntl is None:
            return self
        missing = [f for f in (self.folder, *self.folder.parents) if not f.exists()]
        self.folder.mkdir(parents=True, exist_ok=True)
        self._made = missing
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode("utf-8", "replace").strip()
            os.close(fd)
            raise RunFolderInUse(
                f"run folder {self.folder} is in use by another run "
                f"({holder or 'a process that has not written its name yet'}); wait for it "
                f"to end or choose another --out") from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on host {socket.gethostname()}, since "
                     f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        return self

    def release(self) -> None:
        """Drop the lock (closing the file drops it); the lock file stays, empty of meaning."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def release_and_undo(self) -> None:
        """Release, and remove what :meth:`acquire` created when nothing else was written
        there since: a run refused at its start leaves no folder behind."""
        self.release()
        if self._made and [p.name for p in self.folder.iterdir()] == [LOCK_NAME]:
            self.path.unlink()
            for folder in self._made:
                if any(folder.iterdir()):
                    break
                folder.rmdir()
        self._made = []

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __del__(self) -> None:
        self.release()


def run_files(folder: str | Path) -> list[str]:
    """The entries of ``folder`` (its lock file aside) in words: ``config.toml``,
    ``samples/ (4 files)``, ...; empty when the folder is absent or empty."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name == LOCK_NAME:
            continue
        if entry.is_dir():
            n = sum(1 for _ in entry.iterdir())
            if n:
                found.append(f"{entry.name}/ ({n} file{'s' if n != 1 else ''})")
        else:
            found.append(entry.name)
    return found


def run_folder_holding(path: str | Path) -> Path | None:
    """The run folder that ``path`` names one of the files of (its config, logs, plots,
    grids, lock, samples, checkpoints or TensorBoard event files), or None: a folder is a
    run's when it holds a config.toml, a lock file or a checkpoints/ folder."""
    path = Path(path)
    parent = path.parent
    if path.name in (*_RUN_FILES, LOCK_NAME):
        folder = parent
    elif any(parent.name == sub and path.match(pattern) for sub, pattern in _RUN_GLOBS):
        folder = parent.parent
    else:
        return None
    return folder if is_run_folder(folder) else None


def is_run_folder(folder: str | Path) -> bool:
    """Whether ``folder`` holds a run: a config.toml, a lock file or a checkpoints/."""
    folder = Path(folder)
    return any((folder / mark).exists() for mark in ("config.toml", LOCK_NAME, "checkpoints"))


def clear_run_files(folder: str | Path) -> None:
    """``--overwrite``: delete the files a run writes (config, logs, figures, samples,
    checkpoints, TensorBoard event files) and nothing else."""
    folder = Path(folder)
    for name in _RUN_FILES:
        (folder / name).unlink(missing_ok=True)
    for sub, pattern in _RUN_GLOBS:
        for path in (folder / sub).glob(pattern):
            path.unlink(missing_ok=True)


def read_jsonl(path: str | Path, up_to_step: int | None = None) -> tuple[list[dict], bool]:
    """(the records of a JSON-lines log with ``step <= up_to_step``, whether a torn last
    line was dropped). A last line without its newline that does not parse is what a crash
    or a full disk leaves mid-append: it is dropped. Any other line that is not a JSON
    object with an integer ``step`` raises RunFolderError naming the file and the line."""
    path = Path(path)
    if not path.exists():
        return [], False
    try:
        lines = path.read_bytes().split(b"\n")
    except OSError as e:
        raise RunFolderError(f"cannot read {path}: {e.strerror or e}") from None
    torn = False
    records = []
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        last = number == len(lines)          # no newline after it
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            if last:
                torn = True
                break
            raise RunFolderError(f"{path}, line {number}: not UTF-8 text ({e.reason} at "
                                 f"byte {e.start + 1})") from None
        except (ValueError, RecursionError) as e:
            if last:
                torn = True
                break
            detail = (f"{e.msg} at column {e.colno}" if isinstance(e, json.JSONDecodeError)
                      else "nested too deep")
            raise RunFolderError(f"{path}, line {number}: not valid JSON ({detail})") from None
        step = record.get("step") if isinstance(record, dict) else None
        if isinstance(step, bool) or not isinstance(step, int):
            if last:
                torn = True
                break
            raise RunFolderError(f"{path}, line {number}: a record must be a JSON object "
                                 f"with an integer 'step'")
        records.append(record)
    return [r for r in records if up_to_step is None or r["step"] <= up_to_step], torn
