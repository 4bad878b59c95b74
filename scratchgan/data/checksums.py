"""File digests and their verification against a table of published ones.

A table entry maps an algorithm name of :mod:`hashlib` ("md5", "sha256") to
the expected hex digest; a file must match every digest its entry lists.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Mapping

from scratchgan.data.errors import ChecksumError

Digests = Mapping[str, str]   # algorithm -> lowercase hex digest

_CHUNK = 1 << 20


def file_digests(path: Path, algorithms: tuple[str, ...]) -> dict[str, str]:
    """The hex digests of the file at ``path`` for each algorithm, in one pass over it."""
    hashes = {name: hashlib.new(name) for name in algorithms}
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            for h in hashes.values():
                h.update(chunk)
    return {name: h.hexdigest() for name, h in hashes.items()}


def verify_file(path: Path, expected: Digests, label: str | None = None) -> None:
    """Raise ChecksumError, naming ``label`` (default: the path), when the file at
    ``path`` does not have every digest in ``expected``."""
    if not expected:
        raise ValueError(f"no published checksum for {path.name}; refusing to use it unverified")
    actual = file_digests(path, tuple(expected))
    wrong = [f"{name.upper()} is {actual[name]}, expected {digest.lower()}"
             for name, digest in expected.items() if actual[name] != digest.lower()]
    if wrong:
        raise ChecksumError(f"{label or path} does not match the published file "
                            f"({path.stat().st_size} bytes; {'; '.join(wrong)}): it is truncated, "
                            "damaged, or a different file")
