"""``--detect-anomaly``: when the divergence guard stops a run at step s, re-run it from the
last good checkpoint (or, with none written yet, from the run's start) up to step s with
:func:`scratchgan.inspect.detect_anomaly` on, and say which op first produced a NaN or Inf.

On the CPU a replay computes exactly what the run computed (every random draw comes from
generators the checkpoint holds), so the op it names is the one that broke the run. The
mode checks every Function's outputs and every gradient, so the replay is slower than the
run; it only covers the steps since the last checkpoint. Nothing in the run folder is
written while replaying. Under MPI it is not done (one rank stopping inside a step while
the others wait in a collective would hang the job): the report says so.
"""
from __future__ import annotations

import copy
import re
from typing import Any

from scratchgan.gan import checkpoint
from scratchgan.gan.guard import TrainingDiverged
from scratchgan.inspect.anomaly import AnomalyError, detect_anomaly

__all__ = ["failed_step", "start_state", "replay_with_anomaly_detection", "explain_divergence"]


def start_state(trainer: Any) -> dict[str, Any] | None:
    """A copy of the trainer's state when its folder holds no checkpoint yet (a replay of
    the first steps starts there); None when there is one."""
    if trainer.checkpoints.latest() is not None:
        return None
    return copy.deepcopy(trainer.state_dict())


def explain_divergence(trainer: Any, error: TrainingDiverged,
                       start: dict[str, Any] | None = None) -> str:
    """The report of a replay up to the step ``error`` names (see the module's docstring)."""
    step = failed_step(error)
    if step is None:
        return "detect_anomaly: the guard's error names no step; nothing replayed"
    return replay_with_anomaly_detection(trainer, step, start)


def failed_step(error: TrainingDiverged) -> int | None:
    """The step a TrainingDiverged names (its ``step``, else the "step N:" of its message)."""
    step = getattr(error, "step", None)
    if step is not None:
        return int(step)
    found = re.match(r"step (\d+):", str(error))
    return int(found.group(1)) if found else None


def _where(e: AnomalyError) -> str:
    f = e.function
    sites = [s for s in (getattr(f, "op_site", None), getattr(f, "created_at", None)) if s]
    return sites[0] if sites else "an unknown line"


def replay_with_anomaly_detection(trainer: Any, step: int,
                                  start_state: dict[str, Any] | None = None) -> str:
    """Load the trainer's newest checkpoint (else ``start_state``, the run's state at its
    start), run its steps up to ``step`` inside ``detect_anomaly()``, and return the report:
    the first op that produced NaN or Inf, its file and line and the AnomalyError's full
    account; or why nothing was named. The trainer is left at the step it stopped on."""
    if getattr(trainer.comm, "size", 1) > 1:
        return ("detect_anomaly: not replayed under MPI (a rank stopping inside a step would "
                "leave the others waiting); resume the last checkpoint in one process with "
                "--detect-anomaly to find the op")
    if trainer.resume():
        source = str(trainer.checkpoints.latest())
    elif start_state is not None:
        trainer.load_state_dict(start_state, source="the run's start")
        source = "the start of the run (no checkpoint was written yet)"
    else:
        return "detect_anomaly: no checkpoint and no start state to replay from"
    first = trainer.step + 1
    if first > step:
        return (f"detect_anomaly: the last good checkpoint ({source}) is at step "
                f"{trainer.step}, not before step {step}: nothing to replay (the weights or "
                f"the optimiser state of step {step} were not finite; no op of a step made "
                f"them so)")
    head = f"detect_anomaly: replayed from {source}, steps {first} to {step}"
    try:
        with detect_anomaly():
            while trainer.step < step:
                trainer.train_step()
    except AnomalyError as e:
        at = trainer.step + 1
        return (f"{head}: at step {at}, {e.function.name if e.function else 'the engine'} "
                f"produced the first non-finite value ({e.phase}), at {_where(e)}\n{e}")
    except TrainingDiverged as e:
        return (f"{head}: no op produced NaN or Inf before the guard stopped again ({e}); "
                f"the values became non-finite outside the graph (the optimiser's update)")
    bad = checkpoint.first_nonfinite(trainer.state_dict(), ("G", "D", "G_ema", "opt_g", "opt_d"))
    if bad is not None:
        return (f"{head}: every op's output and every gradient stayed finite, but after step "
                f"{step} {bad} holds NaN or Inf: it was made outside the graph, by the "
                f"optimiser's update (e.g. a gradient whose square overflows float32 in "
                f"Adam's second moment), the EMA or a batch-norm running statistic; lower "
                f"the learning rate")
    return (f"{head}: every value stayed finite through step {step}; the run's failure did "
            f"not repeat (a device or a thread count that rounds differently?)")
