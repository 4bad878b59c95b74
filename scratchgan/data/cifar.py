"""Reading CIFAR-10's binary version straight from ``cifar-10-binary.tar.gz``.

The archive holds ``cifar-10-batches-bin/data_batch_1.bin`` .. ``_5.bin`` (the
50000 training images) and ``test_batch.bin`` (10000 test images). Each is
10000 records of 3073 bytes: the label (0..9), then the 32x32 image as three
1024-byte planes, red, green, blue, each row-major. The members are read into
memory in one pass over the archive (nothing is extracted to disk) and checked
for their size and labels. Only this binary version is read: the "python"
version is pickled, and unpickling a file can run code.
"""
from __future__ import annotations

import tarfile
import zlib
from pathlib import Path

import numpy as np

from scratchgan.data.errors import DataFileError

ARCHIVE = "cifar-10-binary.tar.gz"
FOLDER = "cifar-10-batches-bin"
MEMBERS = {"train": tuple(f"{FOLDER}/data_batch_{i}.bin" for i in range(1, 6)),
           "test": (f"{FOLDER}/test_batch.bin",)}
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
IMAGE_SHAPE = (3, 32, 32)
RECORD_BYTES = 1 + 3 * 32 * 32
RECORDS_PER_BATCH = 10000


def read_cifar10(archive: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The images of ``split`` ("train" or "test"), uint8 (N, 3, 32, 32), and their
    labels, int64 (N,), read from the binary archive at ``archive``."""
    wanted = MEMBERS[split]
    contents: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name in wanted and member.isfile():
                    contents[member.name] = tar.extractfile(member).read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise DataFileError(f"{archive}: not a readable tar.gz archive ({error})") from error
    missing = [name for name in wanted if name not in contents]
    if missing:
        raise DataFileError(f"{archive}: lacks {', '.join(missing)}; is it the CIFAR-10 "
                            "binary version?")
    records = [_records(archive, name, contents[name]) for name in wanted]
    table = np.concatenate(records) if len(records) > 1 else records[0]
    return table[:, 1:].reshape(-1, *IMAGE_SHAPE), table[:, 0].astype(np.int64)


def _records(archive: Path, name: str, raw: bytes) -> np.ndarray:
    """One batch file's records (RECORDS_PER_BATCH, 3073) uint8, its size and labels checked."""
    expected = RECORDS_PER_BATCH * RECORD_BYTES
    if len(raw) != expected:
        raise DataFileError(f"{archive}: {name} holds {len(raw)} bytes, expected {expected} "
                            f"({RECORDS_PER_BATCH} records of {RECORD_BYTES} bytes)")
    table = np.frombuffer(raw, np.uint8).reshape(RECORDS_PER_BATCH, RECORD_BYTES)
    if table[:, 0].max() >= len(CLASSES):
        raise DataFileError(f"{archive}: {name} has label {table[:, 0].max()}, outside "
                            f"0..{len(CLASSES) - 1}")
    return table
