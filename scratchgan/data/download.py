"""Downloading a published file: fetched to a temporary name beside its
destination, verified against its digests, then renamed into place
(``scratchgan.io.atomic_write``).

A file that fails verification never appears under its final name, and the
temporary file is removed whatever happens. The network is reached only
through ``fetch``, a function ``(url, file) -> None`` that writes the bytes at
``url`` into an open binary file; :func:`fetch_url` is the real one, and tests
pass their own.
"""
from __future__ import annotations

import http.client
from pathlib import Path
from typing import BinaryIO, Callable
from urllib.request import urlopen

from tqdm import tqdm

from scratchgan.data.checksums import Digests, verify_file
from scratchgan.io import atomic_write

Fetch = Callable[[str, BinaryIO], None]

TIMEOUT_S = 60
_CHUNK = 1 << 16


def fetch_url(url: str, file: BinaryIO) -> None:
    """Write the bytes at ``url`` into ``file``, with a tqdm progress bar on stderr."""
    with urlopen(url, timeout=TIMEOUT_S) as response:
        length = response.headers.get("Content-Length")
        with tqdm(total=int(length) if length else None, unit="B", unit_scale=True,
                  unit_divisor=1024, desc=url.rsplit("/", 1)[-1]) as bar:
            while chunk := response.read(_CHUNK):
                file.write(chunk)
                bar.update(len(chunk))


class DownloadFailed(Exception):
    """Every URL of a file failed; ``attempts`` holds one "url: reason" line per URL."""

    def __init__(self, attempts: list[str]) -> None:
        super().__init__("; ".join(attempts))
        self.attempts = attempts


def download_verified(urls: list[str], destination: Path, expected: Digests,
                      fetch: Fetch) -> None:
    """Fetch the file from the first of ``urls`` that yields bytes with the
    ``expected`` digests and move it to ``destination`` atomically.

    Raises DownloadFailed, with the reason for each URL, when none does.
    """
    attempts = []
    for url in urls:
        try:
            with atomic_write(destination) as file:
                fetch(url, file)
                file.flush()
                verify_file(Path(file.name), expected, label=f"the download from {url}")
            return
        except (OSError, ValueError, http.client.HTTPException) as error:
            attempts.append(f"{url}: {error}")
    raise DownloadFailed(attempts)
