"""Launching a training run on every rank: rank 0 drives the run folder (``gan.run.Run``:
config, logs, samples, plots, checkpoints, evaluations, the resume), the other ranks
only step (:class:`Follower`, writing nothing, printing nothing on stdout); rank 0's
trainer state, once its run is open (resumed or new), is given to every rank, so a
resume restores all of them exactly. Both call the same collectives in the same order:
they share one step loop (``gan.run.step_loop``).

Stop signals (SIGINT, SIGTERM, SIGHUP): every rank handles them as one process does
(``gan.run.StopSignals``). After each step the ranks agree, in one tiny allreduce, on
the largest signal any rank received, so a signal to one rank or to all (``mpiexec``
forwards SIGINT and SIGTERM to every rank; a scheduler may signal them all) stops every
rank after the same step: rank 0 writes its checkpoint, every rank raises RunInterrupted
(``collective``) and the processes exit with 128 + the signal's number (``mpiexec``
reports it: 143 for SIGTERM, 130 for SIGINT). A second signal stops at once (the job
aborts).

A rank that leaves before its run finished (an error only it saw, a second signal) ends
the whole job through MPI_Abort, its message on stderr: no rank is left waiting in a
collective. A rank killed outright (SIGKILL) is seen by ``mpiexec``, which takes the job
down. Alone (not under MPI) :func:`start_run` is ``Run(...)``.
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
    """A rank other than 0: builds the same trainer and steps until ``config.steps`` (or
    the ranks agree on a stop signal), then waits for rank 0 to finish (its final grid and
    scores, or its checkpoint and plots) with its stop-signal handlers still installed."""

    notes: list = []
    changes: list = []
    resumed = False
    scores = None        # rank 0 scores the run

    def __init__(self, config: Any, trainer: Any = None) -> None:
        from scratchgan.gan.build import build_trainer
        self.trainer = trainer if trainer is not None else build_trainer(config)

    def run(self) -> Any:
        from scratchgan.gan.run import RunInterrupted, StopSignals, step_loop
        t = self.trainer
        stops = StopSignals(t.step, t.config.steps, announce=False)   # rank 0 speaks
        with t.scope(), stops.installed():
            try:
                step_loop(t, stops)
            except RunInterrupted:
                t.comm.barrier()          # rank 0 has written its checkpoint and plots
                raise
            t.comm.barrier()              # rank 0 has finished its run
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
    if this process exits before its ``run()`` returned or raised the RunInterrupted of
    an agreed stop; at the end the ranks wait for each other (a barrier), so none exits
    while rank 0 still writes."""
    from scratchgan.gan.run import Run, RunInterrupted
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
        try:
            trainer = run_steps()
        except RunInterrupted as e:
            if getattr(e, "collective", False):    # every rank stops after this step
                if comm.is_root:
                    comm.barrier()        # the followers wait for the checkpoint
                finished.append(True)     # an orderly stop: no MPI_Abort
            raise
        if comm.is_root:
            comm.barrier()                # the followers wait for the final grid, scores
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
