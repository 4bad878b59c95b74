"""Communicators: who am I (rank), how many are we (size), and the collectives the data-
parallel trainer needs. One interface, two implementations:

    SingleProcess   rank 0 of 1: every collective returns its input (no MPI is imported)
    MPICommunicator mpi4py's COMM_WORLD (``pip install "scratchgan[mpi]"``, the mpich wheel
                    brings ``mpiexec``)

so the trainer runs one code path alone and under ``mpiexec``. :func:`from_environment`
picks one from the variables the MPI launchers set (MPICH/Hydra and Intel MPI: PMI_SIZE;
Open MPI: OMPI_COMM_WORLD_SIZE; MVAPICH: MV2_COMM_WORLD_SIZE; Slurm's PMI: PMI_SIZE):
a size > 1 means MPI, anything else one process. MPI is never imported otherwise.

Arrays are reduced as one flat buffer per call: :meth:`Communicator.allreduce` packs a
list of arrays into one contiguous buffer of their common dtype, reduces it in one
``MPI_Allreduce`` and unpacks it (one latency per step, not one per parameter). CuPy
arrays go through host memory here (an NCCL communicator with the same interface is the
planned GPU path).
"""
from __future__ import annotations

import os
import sys
import traceback
from typing import Any, Callable, Sequence

import numpy as np

from scratchgan.backend import get_array_module, to_numpy

__all__ = ["Communicator", "SingleProcess", "MPICommunicator", "from_environment",
           "environment_size", "ShardedGenerator", "pack", "unpack", "MPIUnavailable"]

#: environment variables that carry the job's size, per launcher family
SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")


class MPIUnavailable(RuntimeError):
    """Launched under MPI (or asked for it) without mpi4py installed."""


def environment_size() -> int:
    """The number of processes an MPI launcher started this one among (1 when none)."""
    for name in SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def pack(arrays: Sequence[Any]) -> tuple[Any, list[tuple[tuple[int, ...], Any]]]:
    """One contiguous 1-D buffer holding every array (in their common dtype), and the
    (shape, dtype) of each to :func:`unpack` it."""
    xp = get_array_module(*arrays) if arrays else np
    dtype = np.result_type(*[a.dtype for a in arrays]) if arrays else np.float64
    flat = xp.empty(sum(int(a.size) for a in arrays), dtype)
    layout, at = [], 0
    for a in arrays:
        flat[at:at + a.size] = a.reshape(-1)
        layout.append((tuple(a.shape), a.dtype))
        at += a.size
    return flat, layout


def unpack(flat: Any, layout: list[tuple[tuple[int, ...], Any]]) -> list[Any]:
    """The arrays :func:`pack` packed (views of ``flat`` when the dtype did not change)."""
    out, at = [], 0
    for shape, dtype in layout:
        n = int(np.prod(shape, dtype=np.int64))
        part = flat[at:at + n].reshape(shape)
        out.append(part if part.dtype == dtype else part.astype(dtype))
        at += n
    return out


class ShardedGenerator:
    """A random generator for one rank of a data-parallel job: every draw whose first
    dimension is a per-rank batch of n draws the global n * size rows from the wrapped
    generator (the same numbers on every rank, and the numbers one process would draw
    for the global batch) and returns this rank's rows [rank n, (rank + 1) n). Draws
    without a size are the same scalar on every rank. The wrapped generator's state,
    which the checkpoints hold, therefore moves in step on all ranks.

    Only the draws the tasks and penalties make are offered; any other method raises,
    rather than silently drawing different numbers on different ranks."""

    def __init__(self, rng: np.random.Generator, rank: int, size: int) -> None:
        self.rng, self.rank, self.size = rng, rank, size

    @property
    def bit_generator(self) -> Any:
        return self.rng.bit_generator

    def _draw(self, method: str, size: Any, *args: Any, **kwargs: Any) -> Any:
        draw = getattr(self.rng, method)
        if size is None:
            return draw(*args, **kwargs)
        shape = (int(size),) if np.isscalar(size) else tuple(int(s) for s in size)
        if not shape or self.size == 1:
            return draw(*args, size=shape, **kwargs)
        n = shape[0]
        full = draw(*args, size=(n * self.size,) + shape[1:], **kwargs)
        return full[self.rank * n:(self.rank + 1) * n]

    def standard_normal(self, size: Any = None, dtype: Any = np.float64) -> Any:
        return self._draw("standard_normal", size, dtype=dtype)

    def normal(self, loc: float = 0.0, scale: float = 1.0, size: Any = None) -> Any:
        return self._draw("normal", size, loc, scale)

    def uniform(self, low: float = 0.0, high: float = 1.0, size: Any = None) -> Any:
        return self._draw("uniform", size, low, high)

    def random(self, size: Any = None, dtype: Any = np.float64) -> Any:
        return self._draw("random", size, dtype=dtype)

    def integers(self, low: int, high: int | None = None, size: Any = None,
                 dtype: Any = np.int64, endpoint: bool = False) -> Any:
        return self._draw("integers", size, low, high, dtype=dtype, endpoint=endpoint)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"ShardedGenerator has no {name!r}: a draw that is not split "
                             f"by rows would differ between ranks (use the wrapped .rng "
                             f"for a draw every rank makes alike)")


class Communicator:
    """The collectives of a data-parallel job (see the module docstring)."""

    rank: int = 0
    size: int = 1

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    # -- collectives (overridden by MPICommunicator) ---------------------------
    def allreduce(self, arrays: Sequence[Any]) -> list[Any]:
        """The elementwise sums over ranks of ``arrays`` (one flat buffer, one call)."""
        return list(arrays)

    def broadcast(self, arrays: Sequence[Any], root: int = 0) -> None:
        """Overwrite ``arrays`` in place with the root's (one flat buffer, one call)."""

    def bcast(self, obj: Any, root: int = 0) -> Any:
        """The root's Python object, on every rank (pickled)."""
        return obj

    def allgather(self, obj: Any) -> list[Any]:
        """Every rank's object, in rank order."""
        return [obj]

    def allreduce_max(self, value: int) -> int:
        """The largest of the ranks' integers (one tiny MPI_Allreduce; alone: ``value``).
        The step loop's agreement on a stop signal (``gan.run.StopSignals``)."""
        return value

    def barrier(self) -> None:
        """Wait until every rank has called it (alone: return)."""

    def abort(self, code: int = 1) -> None:
        """End the whole job now (MPI_Abort); alone: exit the process."""
        sys.stderr.flush()
        os._exit(code)

    @property
    def local_size(self) -> int:
        """Ranks on this host."""
        return 1

    # -- built on the collectives ----------------------------------------------
    def shard(self, n: int, what: str = "batch_size") -> int:
        """The per-rank share of a global count n; a ValueError when size does not divide it."""
        if n % self.size:
            near = sorted({max(self.size, n - n % self.size), n + self.size - n % self.size})
            raise ValueError(f"{what} {n} is the global batch, split across {self.size} ranks: "
                             f"it must be a multiple of {self.size} (e.g. "
                             f"{' or '.join(map(str, near))})")
        return n // self.size

    def shard_generator(self, rng: np.random.Generator) -> Any:
        """``rng`` itself alone; under MPI a :class:`ShardedGenerator` over it."""
        return rng if self.size == 1 else ShardedGenerator(rng, self.rank, self.size)

    def average_gradients(self, parameters: Any) -> None:
        """Replace every parameter gradient by its mean over the ranks (one allreduce),
        after a backward and before the optimiser's step. Alone: nothing to do."""
        params = [p for p in parameters if p.grad is not None]
        if self.size == 1 or not params:
            return
        summed = self.allreduce([p.grad.data for p in params])
        scale = 1.0 / self.size
        for p, g in zip(params, summed):
            g *= scale
            p.grad = type(p.grad)(g)

    def broadcast_state(self, modules: Sequence[Any], optimizers: Sequence[Any]) -> None:
        """Give every rank the root's parameters, buffers and optimiser states."""
        if self.size == 1:
            return
        arrays = []
        for m in modules:
            arrays += [p.data for p in m.parameters()]
            arrays += [b for _, b in m.named_buffers()] if hasattr(m, "named_buffers") else []
        self.broadcast(arrays)
        for opt in optimizers:
            state = self.bcast(opt.state_dict() if self.is_root else None)
            if not self.is_root:
                opt.load_state_dict(state)

    def root_call(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` run on the root, its result broadcast to every rank; an exception it
        raises is raised on every rank (marked ``collective``), so no rank is left waiting."""
        result, error = None, None
        if self.is_root:
            try:
                result = fn()
            except Exception as e:      # noqa: BLE001 - re-raised on every rank below
                error = e
        if self.size > 1:
            result, error = self.bcast((result, error))
        if error is not None:
            error.collective = True
            raise error
        return result


class SingleProcess(Communicator):
    """Rank 0 of 1: the communicator of a run that is not under MPI."""

    def __repr__(self) -> str:
        return "SingleProcess()"


class MPICommunicator(Communicator):
    """mpi4py's COMM_WORLD (or another intracommunicator)."""

    def __init__(self, comm: Any = None) -> None:
        try:
            from mpi4py import MPI
        except ImportError:
            raise MPIUnavailable("running under an MPI launcher needs mpi4py: "
                                 "pip install \"scratchgan[mpi]\"") from None
        self.MPI = MPI
        self.comm = comm if comm is not None else MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self._local_size: int | None = None

    def __repr__(self) -> str:
        return f"MPICommunicator(rank={self.rank}, size={self.size})"

    @property
    def local_size(self) -> int:
        if self._local_size is None:
            local = self.comm.Split_type(self.MPI.COMM_TYPE_SHARED)
            self._local_size = local.Get_size()
            local.Free()
        return self._local_size

    def allreduce(self, arrays: Sequence[Any]) -> list[Any]:
        if not arrays:
            return []
        host = [a if isinstance(a, np.ndarray) else to_numpy(a) for a in arrays]
        flat, layout = pack(host)
        out = np.empty_like(flat)
        self.comm.Allreduce(flat, out, op=self.MPI.SUM)
        result = unpack(out, layout)
        if host[0] is not arrays[0]:        # CuPy: back to the device
            xp = get_array_module(arrays[0])
            result = [xp.asarray(r) for r in result]
        return result

    def broadcast(self, arrays: Sequence[Any], root: int = 0) -> None:
        if not arrays:
            return
        host = [a if isinstance(a, np.ndarray) else to_numpy(a) for a in arrays]
        flat, layout = pack(host)
        self.comm.Bcast(flat, root=root)
        for a, r in zip(arrays, unpack(flat, layout)):
            a[...] = r if isinstance(a, np.ndarray) else get_array_module(a).asarray(r)

    def bcast(self, obj: Any, root: int = 0) -> Any:
        return self.comm.bcast(obj, root=root)

    def allgather(self, obj: Any) -> list[Any]:
        return self.comm.allgather(obj)

    def allreduce_max(self, value: int) -> int:
        out = np.empty(1, np.int64)
        self.comm.Allreduce(np.array([value], np.int64), out, op=self.MPI.MAX)
        return int(out[0])

    def barrier(self) -> None:
        self.comm.Barrier()

    def abort(self, code: int = 1) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self.comm.Abort(code)


def from_environment(require: bool = False) -> Communicator:
    """The job's communicator: MPI's COMM_WORLD when an MPI launcher started more than
    one process (or ``require``, e.g. ``--distributed`` under ``mpiexec -n 1``), else
    SingleProcess (and mpi4py is not imported)."""
    if environment_size() > 1 or require:
        return MPICommunicator()
    return SingleProcess()


def report_and_abort(comm: Communicator, error: BaseException, prefix: str) -> None:
    """Print ``error`` naming this rank (with its traceback unless it is a plain
    ValueError-like message) and end the whole job: one rank's failure never leaves the
    others waiting in a collective."""
    where = f" (rank {comm.rank} of {comm.size})" if comm.size > 1 else ""
    print(f"{prefix}{where}: {type(error).__name__}: {error}", file=sys.stderr)
    if not isinstance(error, (ValueError, RuntimeError, OSError)):
        traceback.print_exception(error, file=sys.stderr)
    comm.abort(1)
