"""The errors a dataset file can raise; every message names the file.

All are ValueErrors, so ``scratchgan train`` reports them as one line.
:class:`DatasetNotFoundError` is also a FileNotFoundError, for callers that
catch that.
"""


class DataFileError(ValueError):
    """A dataset file exists but is malformed: wrong header, wrong size, bad values."""


class ChecksumError(DataFileError):
    """A dataset file's digest differs from the published one (truncated, damaged or another file)."""


class DatasetNotFoundError(FileNotFoundError, ValueError):
    """A dataset's files are nowhere they were looked for, and downloading them failed."""
