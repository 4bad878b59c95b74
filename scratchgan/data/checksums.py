"""File digests and their verification against a table of published ones.

A table entry maps an algorithm name of :mod:`hashlib` ("md5", "sha256") to
the expected hex digest; a file must match every digest its entry lists.

A gzip file may also be vouched for by the digests of its decompressed content: a
Linux distribution's package of a dataset holds the same IDX bytes compressed again
(other level, other header), so its ``.gz`` digest differs from the published one
while its content is the published content. Real damage changes the content too.
"""
from __future__ import annotations

import gzip
import hashlib
import zlib
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


def content_digests(path: Path, algorithms: tuple[str, ...]) -> dict[str, str] | None:
    """The hex digests of the decompressed content of the gzip file at ``path`` (every
    member, in one pass), or None when it is not a whole gzip stream."""
    hashes = {name: hashlib.new(name) for name in algorithms}
    try:
        with gzip.open(path, "rb") as file:
            while chunk := file.read(_CHUNK):
                for h in hashes.values():
                    h.update(chunk)
    except (OSError, EOFError, zlib.error):
        return None
    return {name: h.hexdigest() for name, h in hashes.items()}


def _mismatches(actual: Mapping[str, str], expected: Digests) -> list[str]:
    return [f"{name.upper()} is {actual[name]}, expected {digest.lower()}"
            for name, digest in expected.items() if actual[name] != digest.lower()]


def verify_file(path: Path, expected: Digests, label: str | None = None,
                content: Digests | None = None) -> None:
    """Raise ChecksumError, naming ``label`` (default: the path), when the file at
    ``path`` does not have every digest in ``expected`` and, where ``content`` digests
    are given, its decompressed content does not have every one of those either."""
    if not expected:
        raise ValueError(f"no published checksum for {path.name}; refusing to use it unverified")
    wrong = _mismatches(file_digests(path, tuple(expected)), expected)
    if not wrong:
        return
    if content:
        inside = content_digests(path, tuple(content))
        if inside is not None and not _mismatches(inside, content):
            return             # compressed again (a distribution's package): the same content
        wrong.append("its decompressed content: " + (
            "not a whole gzip stream" if inside is None else "; ".join(_mismatches(inside, content))))
    raise ChecksumError(f"{label or path} does not match the published file "
                        f"({path.stat().st_size} bytes; {'; '.join(wrong)}): it is truncated, "
                        "damaged, or a different file")
