"""Where a command may write, checked before it does any work.

Every file a command writes (``sample --out``, ``eval --json``, ``translate --out``,
``explain --dot``, ``bench --json/--markdown/--chart``) is checked here first, so that a
wrong path is named at once, not after minutes of work, and no output replaces data:

- ``-`` (standard output) is refused, and a file's name must end in the suffix of what
  is written into it (``.png``, ``.json``, ...): ``--out s.jpg`` does not get PNG bytes;
- a folder where a file goes, or a file where a folder goes, is named as such;
- the folder that holds an output must exist: nothing creates missing folders on the
  way (``--out /nonexistent/x.png`` is refused, not made at the root);
- an output that is one of the command's inputs (``--out ck.npz`` of ``--checkpoint
  ck.npz``) or one of a run folder's own files (its config, logs, plots, samples,
  checkpoints: ``runfolder.run_folder_holding``) is refused;
- an existing file that scratchgan did not write is refused unless ``--overwrite`` is
  given. What scratchgan writes carries a mark (``io.MARK``): a PNG's ``Software``
  text chunk, a JSON object's or an .npz's ``written_by``, a safetensors file's
  ``written_by`` metadata entry (``gan/export.py``), a text file's first line; so
  writing the same output twice needs no flag, and a user's own file is never replaced
  by mistake.
"""
from __future__ import annotations

import json
import os
import struct
import zipfile
from pathlib import Path
from typing import Iterable

import numpy as np

from scratchgan.gan.runfolder import is_run_folder, run_folder_holding
from scratchgan.io import MARK

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class OutputPathError(ValueError):
    """An output path a command must not write; the message names the option and why."""


def written_by_scratchgan(path: str | Path) -> bool:
    """Whether the file at ``path`` carries scratchgan's mark (see the module docstring)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return False
    if head.startswith(_PNG_SIGNATURE):
        return _png_software(head).startswith(MARK)
    if head.startswith(b"PK") and path.suffix.lower() == ".npz":
        return _npz_mark(path).startswith(MARK)
    if path.suffix.lower() == ".json":
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(obj, dict) and str(obj.get("written_by", "")).startswith(MARK)
    if path.suffix.lower() == ".safetensors":
        return _safetensors_written_by(path).startswith(MARK)
    return MARK.encode() in head.split(b"\n", 1)[0]


#: the largest header a safetensors file may have (the format's own limit, 100 MB)
_SAFETENSORS_HEADER_LIMIT = 100_000_000


def _safetensors_written_by(path: Path) -> str:
    """The ``written_by`` entry of the ``__metadata__`` of the safetensors file at
    ``path`` ('' if none). The format: an unsigned little-endian 64-bit header length N,
    then N bytes of a JSON object (tensor name -> dtype, shape, offsets, and the optional
    str -> str table ``__metadata__``), then the tensors' bytes; only the header is read,
    without the safetensors package (an optional dependency)."""
    try:
        with open(path, "rb") as fh:
            size = fh.read(8)
            if len(size) < 8:
                return ""
            (length,) = struct.unpack("<Q", size)
            if length > _SAFETENSORS_HEADER_LIMIT:
                return ""
            header = json.loads(fh.read(length).decode("utf-8"))
    except (OSError, ValueError):
        return ""
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return str(meta.get("written_by", "")) if isinstance(meta, dict) else ""


def _npz_mark(path: Path) -> str:
    """The ``written_by`` string array of the .npz at ``path`` ('' if none)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            mark = npz["written_by"] if "written_by" in npz.files else None
            return str(mark) if mark is not None and mark.dtype.kind == "U" else ""
    except (OSError, ValueError, zipfile.BadZipFile):
        return ""


def output_is_folder(path: str | Path) -> bool:
    """Whether an ``--out`` names a folder (one file per sample): it ends in ``/`` or is
    a folder already."""
    return str(path).endswith(("/", os.sep)) or Path(path).is_dir()


def _png_software(data: bytes) -> str:
    """The ``Software`` tEXt chunk of the PNG whose first bytes are ``data`` ('' if none
    before the image data)."""
    at = len(_PNG_SIGNATURE)
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind in (b"IDAT", b"IEND"):
            break
        if kind == b"tEXt":
            key, _, text = data[at + 8:at + 8 + length].partition(b"\0")
            if key == b"Software":
                return text.decode("latin-1")
        at += 12 + length
    return ""


def _is_an_input(path: Path, inputs: Iterable[str | Path]) -> bool:
    """Whether ``path`` is (the same file or folder as) one of ``inputs``."""
    for source in map(Path, inputs):
        try:
            if path.exists() and source.exists() and os.path.samefile(path, source):
                return True
        except OSError:
            continue
    return False


def check_output_file(path: str | Path, option: str, suffixes: tuple[str, ...],
                      inputs: Iterable[str | Path] = (), overwrite: bool = False,
                      command_writes: tuple[str, ...] = ()) -> Path:
    """``path`` as the file ``option`` writes, refused (OutputPathError) for any reason of
    the module docstring. ``suffixes``: the endings it may have (lower case, with the
    dot); ``inputs``: the files the command reads; ``command_writes``: name patterns of
    run files this command writes itself (eval's ``*.eval.json`` beside a checkpoint)."""
    text = str(path)
    if text == "-":
        raise OutputPathError(f"{option} -: writing to standard output is not supported; "
                              f"give a file name ending in {' or '.join(suffixes)}")
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{option} {path} is a folder; give a file name ending in "
                              f"{' or '.join(suffixes)}")
    if path.suffix.lower() not in suffixes:
        raise OutputPathError(f"{option} {path}: the file name must end in "
                              f"{' or '.join(suffixes)} (the format it writes)")
    _check_parent(path, option)
    if _is_an_input(path, inputs):
        raise OutputPathError(f"{option} {path} is an input of this command; choose "
                              f"another file")
    folder = run_folder_holding(path)
    if folder is not None and not any(path.match(p) for p in command_writes):
        raise OutputPathError(f"{option} {path} is a file of the run folder {folder}; "
                              f"write outside the run's own files")
    check_new_files([path], option, overwrite)
    return path


def check_output_folder(path: str | Path, option: str, inputs: Iterable[str | Path] = ()
                        ) -> Path:
    """``path`` as a folder ``option`` writes files into (created if absent, in a folder
    that exists), refused where it is a file, an input, or a run folder."""
    path = Path(path)
    if str(path) == "-":
        raise OutputPathError(f"{option} -: writing to standard output is not supported; "
                              f"give a folder")
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{option} {path} is a file, not a folder")
    if is_run_folder(path):
        raise OutputPathError(f"{option} {path} is a run folder; write into a folder of "
                              f"its own")
    _check_parent(path, option)
    if _is_an_input(path, inputs):
        raise OutputPathError(f"{option} {path} is the input folder; write the outputs "
                              f"into another folder, so no input is replaced")
    return path


def check_output(path: str | Path, suffixes: tuple[str, ...], inputs: Iterable[str | Path],
                 overwrite: bool, option: str = "--out") -> Path:
    """An ``--out`` that names a folder (:func:`output_is_folder`) or a file with one of
    ``suffixes``, checked as :func:`check_output_folder` or :func:`check_output_file`."""
    if output_is_folder(path):
        return check_output_folder(path, option, inputs)
    return check_output_file(path, option, suffixes, inputs, overwrite)


def check_new_files(paths: list[Path], option: str, overwrite: bool) -> None:
    """Refuse, naming the first, any of ``paths`` that exists and scratchgan did not write
    (unless ``overwrite``)."""
    if overwrite:
        return
    for path in paths:
        if path.exists() and not written_by_scratchgan(path):
            raise OutputPathError(f"{option}: {path} already exists and scratchgan did not "
                                  f"write it: pass --overwrite to replace it, or choose "
                                  f"another name")


def _check_parent(path: Path, option: str) -> None:
    parent = path.parent
    if not parent.exists():
        raise OutputPathError(f"{option} {path}: folder {parent} does not exist (create it "
                              f"first)")
    if not parent.is_dir():
        raise OutputPathError(f"{option} {path}: {parent} is a file, not a folder")
