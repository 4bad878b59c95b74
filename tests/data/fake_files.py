"""Small stand-ins for the published dataset files, written by the tests themselves."""
import dataclasses
import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np

from scratchgan.data import published
from scratchgan.data.idx import IMAGES_MAGIC, LABELS_MAGIC


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """The uncompressed IDX encoding of a uint8 array (magic 0x0800 + ndim unless given)."""
    magic = (0x08 << 8 | array.ndim) if magic is None else magic
    header = magic.to_bytes(4, "big") + b"".join(s.to_bytes(4, "big") for s in array.shape)
    return header + np.ascontiguousarray(array, np.uint8).tobytes()


def write_gz(path: Path, raw: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw, mtime=0))   # the same bytes every time
    return path


def digests(data: bytes) -> dict[str, str]:
    return {"md5": hashlib.md5(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest()}


def fake_idx_split(folder: Path, split: str, n: int, seed: int = 0):
    """Write a split's (images, labels) IDX pair into ``folder``: n 5x4 images.

    Returns (images, labels, checksums of the two files).
    """
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 5, 4), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = rng.integers(0, 10, n).astype(np.uint8)
    image_file, label_file = published.MNIST.split_files[split]
    checksums = {}
    for name, array, magic in ((image_file, images, IMAGES_MAGIC), (label_file, labels, LABELS_MAGIC)):
        path = write_gz(folder / name, idx_bytes(array, magic))
        checksums[name] = digests(path.read_bytes())
    return images, labels.astype(np.int64), checksums


def use_checksums(monkeypatch, name: str, checksums: dict) -> None:
    """Make published dataset ``name`` expect ``checksums`` for its files."""
    source, read = published.PUBLISHED[name]
    monkeypatch.setitem(published.PUBLISHED, name,
                        (dataclasses.replace(source, checksums=checksums), read))


def cifar_batch(images: np.ndarray, labels: np.ndarray) -> bytes:
    """Records of one label byte then the (3, 32, 32) image planes."""
    records = np.concatenate([labels.astype(np.uint8)[:, None], images.reshape(len(images), -1)],
                             axis=1)
    return records.tobytes()


def write_tar_gz(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def fake_cifar_archive(path: Path, per_batch: int, seed: int = 0):
    """Write a CIFAR-10 binary archive of ``per_batch`` records per batch file.

    Returns {split: (images (N, 3, 32, 32) uint8, labels int64)}.
    """
    rng = np.random.default_rng(seed)
    members, splits = {}, {"train": ([], []), "test": ([], [])}
    names = [(f"data_batch_{i}.bin", "train") for i in range(1, 6)] + [("test_batch.bin", "test")]
    for name, split in names:
        images = rng.integers(0, 256, (per_batch, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, per_batch)
        members[f"cifar-10-batches-bin/{name}"] = cifar_batch(images, labels)
        splits[split][0].append(images)
        splits[split][1].append(labels)
    members["cifar-10-batches-bin/batches.meta.txt"] = b"airplane\n"
    write_tar_gz(path, members)
    return {split: (np.concatenate(i), np.concatenate(l).astype(np.int64))
            for split, (i, l) in splits.items()}
