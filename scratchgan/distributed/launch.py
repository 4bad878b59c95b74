"""Launching a training run on every rank: rank 0 drives the run folder (``gan.run.Run``:
config, logs, samples, plots, checkpoints, evaluations, the resume), the other ranks
only step (:class:`Follower`, writing nothing, printing nothing on stdout); rank 0's
trainer state, once its run is open (resumed or new), is given to every rank, so a
resume restores all of them exactly. Both call the same collectives in the same order.

A rank that leaves before its run finished (an error only it saw, Ctrl-C) ends the whole
job through MPI_Abort, its message on stderr: no rank is left waiting in a collective. A
rank killed outright (a signal) is seen by ``mpiexec``, which takes the job down.
Alone (not under MPI) :func:`start_run` is ``Run(...)``.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import sys
from typing import Any, Iterator

from scratchgan.distributed.comm import Communicator, from_environment, report_and_abort

__all__ = ["Follower", "start_run", "launch", "share_trainer_state"]


class Follower:
    """A rank other than 0: builds the same trainer and steps until ``config.steps``."""

    notes: list = []
    changes: list = []
    resumed = False
    scores = None        # rank 0 scores the run

    def __init__(self, config: Any, trainer: Any = None) -> None:
        from scratchgan.gan.build import build_trainer
        self.trainer = trainer if trainer is not None else build_trainer(config)

    def run(self) -> Any:
        t = self.trainer
        with t.scope():
            while t.step < t.config.steps:
                t.train_step()
        return t


def share_trainer_state(comm: Communicator, trainer: Any) -> None:
    """Rank 0's whole trainer state (models, EMA, optimisers, loader, generators, step)
    loaded on every other rank."""
    if comm.size == 1:
        return
    state = comm.bcast(trainer.state_dict() if comm.is_root else None)
    if not comm.is_root:
        trainer.load_state_dict(state, source="rank 0's state")


def start_run(config: Any, resume: bool = False, overwrite: bool = False) -> Any:
    """``Run(config, resume, overwrite=...)`` on rank 0 (or alone), a :class:`Follower` on
    the other ranks, every rank holding rank 0's trainer state. Under MPI the job aborts
    if this process exits before its ``run()`` returned."""
    from scratchgan.gan.run import Run
    comm = from_environment()
    options = {"overwrite": True} if overwrite else {}
    if comm.size == 1:
        return Run(config, resume=resume, **options)
    finished = []

    def abort_unfinished() -> None:
        if not finished:
            print(f"scratchgan: rank {comm.rank} of {comm.size} stopped before the run "
                  f"finished; aborting the job", file=sys.__stderr__, flush=True)
            comm.abort(1)

    atexit.register(abort_unfinished)
    if comm.is_root:
        run = Run(config, resume=resume, **options)
    else:
        sys.stdout = open(os.devnull, "w")      # one rank reports: rank 0
        run = Follower(config)
    share_trainer_state(comm, run.trainer)
    run_steps = run.run

    def run_and_finish() -> Any:
        trainer = run_steps()
        finished.append(True)
        return trainer

    run.run = run_and_finish
    return run


@contextlib.contextmanager
def launch(prefix: str = "scratchgan") -> Iterator[Communicator]:
    """The job's communicator, for a block of collective work. Under MPI, an exception
    that is not ``collective`` (raised alike on every rank) prints its message with the
    rank and aborts the job; collective ones propagate on every rank."""
    comm = from_environment()
    try:
        yield comm
    except BaseException as e:
        if comm.size > 1 and not getattr(e, "collective", False) \
                and not isinstance(e, SystemExit):
            report_and_abort(comm, e, prefix)
        raise
