"""Images from the user's own files: one .npz archive, or a folder of PNGs.

Both give ``(images, labels, num_classes)``: images float32 (N, C, H, W) in
[-1, 1]; labels int64 (N,) and their count of classes, or (None, 0).

- ``.npz``: the images under the key ``images`` or ``x`` (or the archive's only
  array), optional labels under ``labels`` or ``y`` (integers 0..K-1, K at most
  MAX_CLASSES; K is max + 1, or the archive's ``num_classes`` when it holds one; every
  class 0..K-1 must have images). Images as :mod:`scratchgan.data.images` accepts them.
  Nothing is unpickled: an array of Python objects is refused.
- a folder: ``*.png`` files directly in it (no labels), or in one subfolder per
  class, ``DIR/<class>/*.png``: the classes are numbered in the order of their
  names (by value when every name is a number). Read with
  ``matplotlib.image.imread``; all images must share one size and channel count
  (grey or RGB; an alpha channel is dropped when fully opaque).
"""
from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import matplotlib.image
import numpy as np

from scratchgan.data.errors import DataFileError, DatasetNotFoundError
from scratchgan.data.images import to_nchw, to_signed_unit

IMAGE_KEYS = ("images", "x")
JPEG_SUFFIXES = (".jpg", ".jpeg")
LABEL_KEYS = ("labels", "y")
NPY_MAGIC = np.lib.format.MAGIC_PREFIX
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")    # a zip's first entry; an empty zip
#: the most classes a labelled image set may have (a conditional model holds an embedding
#: row per class: a label of 1e9 must not ask for one)
MAX_CLASSES = 10_000

ImageSet = tuple[np.ndarray, "np.ndarray | None", int]


def load_npz_images(path: str | Path) -> ImageSet:
    """The images (and labels, when present) stored in the .npz file at ``path``."""
    path = Path(path).expanduser()
    arrays = _read_npz(path)
    image_key = _image_key(path, arrays)
    source = f"{path} [{image_key!r}]"
    images = to_signed_unit(to_nchw(arrays[image_key], source), source)
    label_key = next((key for key in LABEL_KEYS if key in arrays and key != image_key), None)
    if label_key is None:
        return images, None, 0
    label_source = f"{path} [{label_key!r}]"
    labels, num_classes = _checked_labels(arrays[label_key], len(images), label_source)
    given = "num_classes" in arrays
    if given:
        stored = arrays["num_classes"]
        if (stored.shape != () or not np.issubdtype(stored.dtype, np.integer)
                or not 1 <= int(stored) <= MAX_CLASSES):
            raise DataFileError(f"{path} ['num_classes']: must be one integer from 1 to "
                                f"{MAX_CLASSES}, got {stored!r}")
        if num_classes > int(stored):
            raise DataFileError(f"{label_source}: labels must lie in 0..{int(stored) - 1} "
                                f"(num_classes = {int(stored)}), found {num_classes - 1}")
        num_classes = int(stored)
    _check_every_class_has_images(labels, num_classes, given, label_source)
    return images, labels, num_classes


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of the .npz file at ``path``, by key; members that are not .npy arrays
    are left out. Read without unpickling: an object array is refused, never loaded."""
    if path.is_dir():
        raise DataFileError(f"{path}: is a folder, not an .npz file (a zip of NumPy arrays)")
    if not path.is_file():
        raise DatasetNotFoundError(f"{path}: no such file")
    with path.open("rb") as file:
        start = file.read(len(NPY_MAGIC))
    if start == NPY_MAGIC:
        raise DataFileError(f"{path}: holds a single .npy array, not an .npz archive; save it "
                            "with np.savez(path, images=...)")
    if not start.startswith(ZIP_MAGICS):
        raise DataFileError(f"{path}: is not an .npz file (a zip of NumPy arrays); save one "
                            "with np.savez(path, images=...)")
    try:
        with zipfile.ZipFile(path) as archive:
            arrays = {name[:-len(".npy")]: _read_member(path, archive, name)
                      for name in archive.namelist() if name.endswith(".npy")}
    except (OSError, EOFError, RuntimeError, zipfile.BadZipFile, zlib.error) as error:
        raise DataFileError(f"{path}: cannot be read as an .npz archive ({error})") from error
    if not arrays:
        raise DataFileError(f"{path}: holds no arrays; expected 'images' (or 'x'), and "
                            "optionally 'labels' (or 'y'), as np.savez(path, images=..., "
                            "labels=...) writes them")
    return arrays


def _read_member(path: Path, archive: zipfile.ZipFile, name: str) -> np.ndarray:
    """The array in the archive's member ``name`` (a .npy file), read without unpickling."""
    source = f"{path} [{name[:-len('.npy')]!r}]"
    with archive.open(name) as member:
        try:
            version = np.lib.format.read_magic(member)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            _, _, dtype = read_header(member)
        except ValueError as error:      # numpy's text may suggest unpickling: not repeated
            raise DataFileError(f"{source}: not a readable .npy array (bad or oversized "
                                "header)") from error
        if dtype.hasobject:
            raise DataFileError(f"{source}: holds Python objects (dtype {dtype}), which are "
                                "never unpickled; store numbers: images as uint8 or floats, "
                                "labels as integers, all of one shape")
        member.seek(0)
        try:
            return np.lib.format.read_array(member, allow_pickle=False)
        except ValueError as error:
            raise DataFileError(f"{source}: truncated or damaged ({error})") from error


def _image_key(path: Path, arrays: dict[str, np.ndarray]) -> str:
    for key in IMAGE_KEYS:
        if key in arrays:
            return key
    if len(arrays) == 1 and not set(arrays) & set(LABEL_KEYS):   # the only array, not labels
        return next(iter(arrays))
    raise DataFileError(f"{path}: no image array; store it under the key 'images' or 'x' "
                        f"(the archive holds {', '.join(map(repr, arrays))})")


def _checked_labels(labels: np.ndarray, count: int, source: str) -> tuple[np.ndarray, int]:
    """Labels as int64 with their number of classes (max + 1), after checking them."""
    if labels.ndim != 1 or len(labels) != count:
        raise DataFileError(f"{source}: labels must be shaped ({count},), one per image; "
                            f"got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataFileError(f"{source}: labels must be integers, got {labels.dtype}")
    if labels.min() < 0:
        raise DataFileError(f"{source}: labels must be >= 0, found {labels.min()}")
    if labels.max() >= MAX_CLASSES:
        raise DataFileError(f"{source}: labels must be class numbers 0..K-1 with K at most "
                            f"{MAX_CLASSES}, found {labels.max()} (renumber the classes from 0)")
    return labels.astype(np.int64), int(labels.max()) + 1


def _check_every_class_has_images(labels: np.ndarray, num_classes: int, given: bool,
                                  source: str) -> None:
    """Refuse labels that leave some class of 0..num_classes-1 without an image: a
    conditional model would draw that class with nothing behind it."""
    empty = np.flatnonzero(np.bincount(labels, minlength=num_classes) == 0)
    if not len(empty):
        return
    present = num_classes - len(empty)
    basis = f"num_classes = {num_classes}" if given else f"K = {num_classes} from the largest label"
    fix = f" and give num_classes = {present}" if given else ""
    raise DataFileError(f"{source}: labels leave classes {_spans(empty)} with no images "
                        f"({basis}): renumber the {present} classes present as "
                        f"0..{present - 1}{fix}")


def _spans(values: np.ndarray, most: int = 5) -> str:
    """Sorted integers as runs, "1..3, 7, 9..12": the first ``most`` runs, then how many in all."""
    runs = np.split(values, np.flatnonzero(np.diff(values) != 1) + 1)
    text = [f"{run[0]}" if len(run) == 1 else f"{run[0]}..{run[-1]}" for run in runs[:most]]
    if len(runs) > most:
        text.append(f"... ({len(values)} in all)")
    return ", ".join(text)


def load_png_folder(folder: str | Path) -> ImageSet:
    """The PNG images in ``folder``, labelled by their class subfolder if they have one."""
    folder = existing_folder(folder)
    loose = _pngs(folder)
    subfolders = _class_order([sub for sub in folder.iterdir() if sub.is_dir()])
    classes = [(sub.name, pngs) for sub in subfolders if (pngs := _pngs(sub))]
    if loose and classes:
        raise DataFileError(f"{folder}: holds PNGs both directly and in subfolders "
                            f"({', '.join(name for name, _ in classes)}); put every image in a "
                            "class subfolder, or all of them directly in the folder")
    if not loose and not classes:
        raise DataFileError(f"{folder}: no .png files in it or in its subfolders")
    if loose:
        return read_image_files(loose), None, 0
    files = [png for _, pngs in classes for png in pngs]
    labels = np.repeat(np.arange(len(classes), dtype=np.int64), [len(pngs) for _, pngs in classes])
    return read_image_files(files), labels, len(classes)


def existing_folder(folder: str | Path) -> Path:
    """``folder`` as a Path, after checking that it is a folder."""
    folder = Path(folder).expanduser()
    if folder.is_file():
        raise DataFileError(f"{folder}: is a file, not a folder")
    if not folder.is_dir():
        raise DatasetNotFoundError(f"{folder}: no such folder")
    return folder


def _pngs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png" and p.is_file())


def _class_order(subfolders: list[Path]) -> list[Path]:
    """Subfolders by name, or by numeric value when every name is a number."""
    if subfolders and all(sub.name.isdecimal() for sub in subfolders):
        return sorted(subfolders, key=lambda sub: int(sub.name))
    return sorted(subfolders, key=lambda sub: sub.name)


def read_image_files(files: list[Path]) -> np.ndarray:
    """The images (PNG or JPEG) as float32 (N, C, H, W) in [-1, 1]; all must have the first
    one's shape."""
    first = read_image_file(files[0])
    images = np.empty((len(files), *first.shape), np.float32)
    images[0] = first
    for i, path in enumerate(files[1:], start=1):
        image = read_image_file(path)
        if image.shape != first.shape:
            raise DataFileError(f"{path}: shape (C, H, W) = {image.shape} differs from "
                                f"{files[0]}'s {first.shape}; all images must share one size "
                                "and channel count")
        images[i] = image
    images *= 2
    images -= 1
    return images


def read_image_file(path: Path) -> np.ndarray:
    """One PNG or JPEG as float32 (C, H, W) in [0, 1], C = 1 or 3."""
    try:
        pixels = matplotlib.image.imread(path)
    except (OSError, ValueError, SyntaxError) as error:
        kind = "JPEG" if path.suffix.lower() in JPEG_SUFFIXES else "PNG"
        raise DataFileError(f"{path}: cannot be read as a {kind} ({error})") from error
    if pixels.dtype == np.uint8:      # JPEGs come as 0..255, PNGs as floats in [0, 1]
        pixels = pixels / np.float32(255)
    if pixels.ndim == 2:
        return pixels[None].astype(np.float32)
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        if not np.all(pixels[:, :, 3] == 1):
            raise DataFileError(f"{path}: has transparent pixels; save it without an alpha "
                                "channel (flatten it onto a background)")
        pixels = pixels[:, :, :3]
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise DataFileError(f"{path}: unsupported PNG layout {pixels.shape}")
    return pixels.transpose(2, 0, 1).astype(np.float32)
