"""``tensorboard = true`` (``--tensorboard``): a run's curves, scores and sample grids as
TensorBoard event files in ``<out>/tensorboard/``, written with tensorboardX's
SummaryWriter (``pip install 'scratchgan[tensorboard]'``) beside the run's own logs,
which stay the record (``tensorboard --logdir <out>/tensorboard`` shows them live).

What is written, each at the step of the run it belongs to:

- ``train/<key>``: the numbers of each metrics.jsonl record without a ``/`` in their key
  (``loss_d``, ``loss_g``, ``d_real``, ``d_fake``, ``images_per_s``, pix2pix's terms);
  the keys that have one keep it as their tag: ``grad_norm/G/<layer>``,
  ``update_ratio/D/<layer>``, ``d_input_grad/real`` and ``d_input_grad/fake``;
- ``eval/<key>``: the numbers of each eval.jsonl record (FD, IS, KID, mode statistics...);
- ``score/<key>``: the numbers of scores.json, at the step the run was scored;
- the images ``samples`` (each samples/step-*.png) and ``final_grid`` (final_grid.png).

A resumed run appends a new event file to the folder, and the first event of that file
purges (``purge_step``) everything the earlier files hold past the step the run resumes
from: records of a future the resume drops, as it drops them from the JSON logs.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from scratchgan.gan.config import ConfigError

#: the folder of the event files, inside the run folder
FOLDER = "tensorboard"


def require_tensorboardx() -> None:
    """Raise ConfigError (one line naming the package) unless tensorboardX imports."""
    try:
        import tensorboardX  # noqa: F401
    except ImportError:
        raise ConfigError("config key 'tensorboard' needs the tensorboardX package, which "
                          "is not installed: pip install 'scratchgan[tensorboard]'") from None


class RunBoard:
    """The event files of one :meth:`Run.run <scratchgan.gan.run.Run.run>`: a
    SummaryWriter on ``<folder>/tensorboard``, started at the run's ``step`` (past 0:
    events after it in earlier files are purged). Every method flushes, so TensorBoard
    shows each record as soon as it is logged; :meth:`close` flushes and closes."""

    def __init__(self, folder: Path, step: int) -> None:
        require_tensorboardx()
        from tensorboardX import SummaryWriter
        # tensorboardX names a file by the second and the host alone and opens it with
        # "wb": the suffix keeps a resume within the same second from truncating the
        # file before it (and, fixed-width, sorts the files in the order written)
        self.writer = SummaryWriter(str(Path(folder) / FOLDER),
                                    purge_step=step + 1 if step else None,
                                    filename_suffix=f".{time.time_ns():020d}")

    def metrics(self, record: dict[str, Any]) -> None:
        """A metrics.jsonl record: its numbers at its ``step``."""
        step = record["step"]
        for key, value in _numbers(record):
            self.writer.add_scalar(key if "/" in key else f"train/{key}", value, step)
        self.writer.flush()

    def scores(self, prefix: str, result: dict[str, Any]) -> None:
        """An evaluation (``eval``) or the final scores (``score``): ``<prefix>/<key>`` for
        each number of ``result`` at its ``step``."""
        step = result["step"]
        for key, value in _numbers(result):
            self.writer.add_scalar(f"{prefix}/{key}", value, step)
        self.writer.flush()

    def image(self, tag: str, step: int, png: Path) -> None:
        """The PNG file ``png`` (a sample grid the run saved) as image ``tag``."""
        from matplotlib.image import imread
        self.writer.add_image(tag, imread(png), step, dataformats="HWC")
        self.writer.flush()

    def close(self) -> None:
        """Flush the events and close the file (again: nothing)."""
        self.writer.close()


def _numbers(record: dict[str, Any]) -> list[tuple[str, float]]:
    """The numbers of a record (not bools; NaN and inf too), its ``step`` aside."""
    return [(key, float(value)) for key, value in record.items()
            if key != "step" and isinstance(value, (int, float)) and not isinstance(value, bool)]
