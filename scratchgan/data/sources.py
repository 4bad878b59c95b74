"""Where a published dataset's files come from.

A dataset's files are looked for, in this order, in

1. the ``data_dir`` argument (``--data-dir`` of ``scratchgan train``),
2. the folder named by ``$SCRATCHGAN_DATA``,
3. the cache folder (``$SCRATCHGAN_CACHE``, else ``~/.cache/scratchgan``),

each in its ``<name>/`` subfolder first (``mnist/``, ``fashion-mnist/``,
``cifar10/``) and then, for the first two, directly in it; the first folder
holding a file supplies it. Every file found is verified against its published
checksums. A file found nowhere is downloaded into ``<cache>/<name>/`` from the
dataset's mirrors, verified before it is moved into place.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from scratchgan.data import cache, download
from scratchgan.data.checksums import Digests, verify_file
from scratchgan.data.download import DownloadFailed, Fetch
from scratchgan.data.errors import DatasetNotFoundError

DATA_ENV_VAR = "SCRATCHGAN_DATA"


@dataclass(frozen=True)
class PublishedFiles:
    """A dataset published as files at known URLs.

    name:        its dataset name, also the name of its subfolders
    split_files: split -> the names of the files it is read from
    mirrors:     base URLs, tried in order; a file's URL is base + file name
    checksums:   file name -> {hashlib algorithm: hex digest}, the published digests
    content_checksums: file name -> digests of a .gz file's decompressed content, which
                 also vouch for it (the same data compressed again, as a distribution's
                 package ships it); recorded from files whose published digests match
    """
    name: str
    split_files: Mapping[str, tuple[str, ...]]
    mirrors: tuple[str, ...]
    checksums: Mapping[str, Digests]
    content_checksums: Mapping[str, Digests] = field(default_factory=dict)


def search_folders(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for dataset ``name``'s files, in the order they are tried."""
    roots = [Path(root).expanduser() for root in (data_dir, os.environ.get(DATA_ENV_VAR)) if root]
    folders = [folder for root in roots for folder in (root / name, root)]
    folders.append(download_folder(name))
    return list(dict.fromkeys(folders))


def download_folder(name: str) -> Path:
    """Where downloaded files of dataset ``name`` go: ``<cache>/<name>/``."""
    return cache.cache_dir() / name


def find_files(source: PublishedFiles, split: str, data_dir: str | os.PathLike | None = None,
               fetch: Fetch | None = None) -> list[Path]:
    """The verified paths of the files ``split`` of ``source`` is read from, in
    the order of ``source.split_files[split]``, each found in
    :func:`search_folders` or downloaded with ``fetch`` (default: the network).

    Raises ChecksumError naming a file found with the wrong digests, and
    DatasetNotFoundError, naming the folders searched, the URLs tried and where
    to put the files, when some file is neither found nor downloaded.
    """
    filenames = source.split_files[split]
    folders = search_folders(source.name, data_dir)
    paths: dict[str, Path] = {}
    for filename in filenames:
        found = next((folder / filename for folder in folders if (folder / filename).is_file()),
                     None)
        if found is not None:
            verify_file(found, source.checksums[filename], label=f"dataset {source.name!r}: {found}",
                        content=source.content_checksums.get(filename))
            paths[filename] = found
    failures: dict[str, list[str]] = {}
    for filename in (name for name in filenames if name not in paths):
        destination = download_folder(source.name) / filename
        urls = [mirror + filename for mirror in source.mirrors]
        try:
            download.download_verified(urls, destination, source.checksums[filename],
                                       fetch or download.fetch_url)
            paths[filename] = destination
        except DownloadFailed as failure:
            failures[filename] = failure.attempts
    if failures:
        raise DatasetNotFoundError(_not_found_message(source, failures, folders))
    return [paths[filename] for filename in filenames]


def _not_found_message(source: PublishedFiles, failures: dict[str, list[str]],
                       folders: list[Path]) -> str:
    lines = [f"dataset {source.name!r}: cannot find {', '.join(failures)}.", "Looked in:"]
    lines += [f"  {folder}" for folder in folders]
    lines.append("Downloading failed:")
    lines += [f"  {attempt}" for attempts in failures.values() for attempt in attempts]
    lines.append(f"Put the files in {download_folder(source.name)}, or in a folder given by "
                 f"--data-dir (data_dir=) or ${DATA_ENV_VAR}, directly or in its "
                 f"'{source.name}' subfolder.")
    return "\n".join(lines)
