"""The divergence guard: every loss is checked for NaN/Inf, and training stops with the
step and the loss named, keeping the last good checkpoint.

On the CPU each loss is read and checked as it is computed. On a GPU (``defer=True``)
nothing inside a step waits for the device: the losses and the other metrics of a step
stay device scalars, queued, until :meth:`DivergenceGuard.sync` (a log step, the last
step, a checkpoint, or ``max_pending`` values queued), where all of them come back in one
copy and are checked in step order; the error names the first bad step, and a checkpoint
is only written after that check, so the last one kept is good.

Under MPI the check is collective (:class:`DistributedGuard`): every rank learns every
rank's loss, so all stop together, naming the step and the rank; the losses and metrics
it returns are the means over the ranks (the global batch's, as one process would log
them). :func:`make_guard` picks the one a communicator needs.
"""
from __future__ import annotations

import math
from typing import Any, Callable

from scratchgan.autograd import Tensor
from scratchgan.backend import get_array_module, to_numpy
from scratchgan.distributed.comm import Communicator

#: on a GPU, the most values kept on the device before a host copy and check
MAX_PENDING_METRICS = 4096


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the message names the step and the loss, ``step``
    holds the step (None where unknown)."""

    def __init__(self, message: str, step: int | None = None) -> None:
        super().__init__(message)
        self.step = step


class DivergenceGuard:
    """Checks losses for NaN/Inf, at once (``defer=False``) or at the next :meth:`sync`.

    ``last_good`` says, when training stops, what is kept (the last good checkpoint)."""

    def __init__(self, defer: bool, last_good: Callable[[], str],
                 max_pending: int = MAX_PENDING_METRICS) -> None:
        self.defer = defer
        self.last_good = last_good
        self.max_pending = max_pending
        self.pending: list[tuple[int, str, Any]] = []

    def _diverged(self, step: int, name: str, value: float) -> None:
        raise TrainingDiverged(f"step {step}: {name} is {value}; training stopped "
                               f"({self.last_good()})", step)

    def diverged_state(self, step: int, where: str) -> None:
        """Stop: the state to checkpoint at ``step`` holds NaN/Inf at ``where``."""
        raise TrainingDiverged(f"step {step}: {where} holds NaN or Inf values; training "
                               f"stopped without writing this checkpoint ({self.last_good()})",
                               step)

    def check(self, step: int, name: str, loss: Tensor) -> Any:
        """The loss of ``step`` as a float, checked; deferred: its device scalar, queued."""
        if self.defer:
            self.pending.append((step, name, loss.data))
            return loss.data
        value = loss.item()
        if not math.isfinite(value):
            self._diverged(step, name, value)
        return value

    def metric(self, value: Any) -> Any:
        """A 0-d metric array as a float; deferred: as it is (read at the next sync)."""
        return value if self.defer else float(value)

    @property
    def full(self) -> bool:
        """Whether enough values are queued that the next step should sync."""
        return len(self.pending) >= self.max_pending

    def sync(self, record: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Bring the queued values to the host in one copy: check every pending loss in step
        order (TrainingDiverged names the first bad step), and return ``record`` with its
        values as floats. Nothing to do when nothing is queued (always, on the CPU)."""
        keys = list(record) if record is not None else []
        values = [v for _, _, v in self.pending] + [record[k] for k in keys]
        if not values:
            return record
        xp = get_array_module(*values)
        host = to_numpy(xp.stack([xp.asarray(v).reshape(()).astype(xp.float64) for v in values]))
        pending, self.pending = self.pending, []
        for (step, name, _), v in zip(pending, host):
            if not math.isfinite(v):
                self._diverged(step, name, float(v))
        return {k: float(v) for k, v in zip(keys, host[len(pending):])} \
            if record is not None else None


class DistributedGuard(DivergenceGuard):
    """DivergenceGuard over all ranks: each check gathers the loss of every rank, stops
    every rank when any is NaN/Inf (naming the step, the loss and the ranks), and returns
    the mean over the ranks. Never deferred: the check is the synchronisation point."""

    def __init__(self, comm: Communicator, last_good: Callable[[], str]) -> None:
        super().__init__(defer=False, last_good=last_good)
        self.comm = comm

    def check(self, step: int, name: str, loss: Tensor) -> float:
        values = self.comm.allgather(loss.item())
        bad = [r for r, v in enumerate(values) if not math.isfinite(v)]
        if bad:
            where = ", ".join(f"rank {r} ({values[r]})" for r in bad)
            error = TrainingDiverged(f"step {step}: {name} is not finite on {where} of "
                                     f"{self.comm.size}; every rank stopped "
                                     f"({self.last_good()})")
            error.collective = True
            raise error
        return sum(values) / len(values)

    def metric(self, value: Any) -> float:
        values = self.comm.allgather(float(value))
        return sum(values) / len(values)


def make_guard(comm: Communicator, defer: bool, last_good: Callable[[], str]) -> DivergenceGuard:
    """The run's guard: the plain one alone, the collective one under MPI."""
    if comm.size == 1:
        return DivergenceGuard(defer=defer, last_good=last_good)
    return DistributedGuard(comm, last_good)
