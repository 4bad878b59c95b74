"""NaN and Inf attribution: ``with detect_anomaly(): ...``.

Inside the block every Function call checks its outputs, and the engine checks every
gradient it passes on; the first non-finite value raises :class:`AnomalyError`, which
names

* the Function that produced it and whether this was the forward or the backward;
* where it was created: the first frame of the call stack outside the scratchgan package
  (the user's file and line) and, when different, the library line that called the op
  (e.g. ``scratchgan/gan/losses.py:73``);
* its inputs' statistics (shape, dtype, min, max, how many NaN and Inf);
* for a value born in a backward, the forward Function whose backward it was (with that
  Function's own creation site and input statistics): a NaN from ``sqrt`` at 0 under a
  gradient penalty is named as ``Div`` in the backward of ``Sqrt``, created at the line
  that computed the penalty.

The call sites are captured only in this mode. Outside it the only cost is one ``is not
None`` test per Function call and per backward step (``scratchgan.autograd.function.
monitor``). Functions recorded inside the block also carry ``created_at`` and, when they
were made by a backward under ``create_graph``, ``backward_of``, which
:func:`scratchgan.inspect.graph` shows.
"""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, Iterator

from scratchgan.autograd import function as function_module
from scratchgan.autograd.function import Function
from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import get_array_module, to_numpy

__all__ = ["detect_anomaly", "AnomalyError", "array_stats"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_CORE = tuple(os.path.join(_PACKAGE, d) + os.sep
              for d in ("autograd", "functions", "inspect", "nn"))


class AnomalyError(FloatingPointError):
    """A Function produced NaN or Inf inside ``detect_anomaly``. Attributes: ``function``
    (the Function), ``phase`` ("forward" or "backward"), ``backward_of`` (the forward
    Function whose backward was running, or None)."""

    def __init__(self, message: str, function: Function | None, phase: str,
                 backward_of: Function | None) -> None:
        super().__init__(message)
        self.function = function
        self.phase = phase
        self.backward_of = backward_of


#: the folder holding the scratchgan package: its files are named from there
_LIBRARY_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PARENT_OF_LIBRARY = os.path.dirname(_LIBRARY_ROOT)


def _short(path: str) -> str:
    """A file as a report names it: scratchgan's own as ``scratchgan/...`` wherever it is
    installed and whatever the working directory, others relative to the working
    directory (absolute when that is more than one level up)."""
    if path.startswith(_LIBRARY_ROOT + os.sep):
        return os.path.relpath(path, _PARENT_OF_LIBRARY)
    try:
        rel = os.path.relpath(path)
    except ValueError:          # another drive
        return path
    return path if rel.startswith(".." + os.sep + "..") else rel


def _sites() -> tuple[str | None, str | None]:
    """(user site, op site): the first frame outside scratchgan, and the first frame
    outside scratchgan's autograd, functions, nn and inspect packages."""
    frame = sys._getframe(2)
    user = op = None
    while frame is not None and user is None:
        path = os.path.abspath(frame.f_code.co_filename)
        where = f"{_short(path)}:{frame.f_lineno} (in {frame.f_code.co_name})"
        if op is None and not path.startswith(_CORE) and "contextlib" not in path:
            op = where
        if not path.startswith(_PACKAGE) and "contextlib" not in path:
            user = where
        frame = frame.f_back
    return user, (op if op != user else None)


def array_stats(a: Any) -> str:
    """``shape dtype min .. max, n NaN, n Inf`` of an array (NaN and Inf left out of the
    range)."""
    xp = get_array_module(a)
    shape = "(" + ", ".join(map(str, a.shape)) + ("," if a.ndim == 1 else "") + ")"
    if a.dtype.kind not in "fc":
        return f"{shape} {a.dtype}"
    nan, inf = int(xp.isnan(a).sum()), int(xp.isinf(a).sum())
    finite = a[xp.isfinite(a)]
    rng = (f"min {float(to_numpy(finite.min())):.4g}, max {float(to_numpy(finite.max())):.4g}"
           if finite.size else "no finite value")
    return f"{shape} {a.dtype} {rng}, {nan} NaN, {inf} Inf"


def _bad(a: Any) -> str | None:
    """"NaN" / "Inf" / None for an array."""
    if a.dtype.kind not in "fc":
        return None
    xp = get_array_module(a)
    if bool(xp.isfinite(a).all()):
        return None
    return "NaN" if bool(xp.isnan(a).any()) else "Inf"


def _describe(f: Function, inputs: Any) -> list[str]:
    lines = []
    if getattr(f, "created_at", None):
        lines.append(f"    created at {f.created_at}"
                     + (f", via {f.op_site}" if getattr(f, "op_site", None) else ""))
    for i, x in enumerate(inputs or ()):
        lines.append(f"    input {i}: {array_stats(x.data if isinstance(x, Tensor) else x)}")
    return lines


def _chain(f: Function | None) -> list[str]:
    """The forward Functions whose backward made ``f``, innermost first."""
    lines = []
    seen = 0
    while f is not None and seen < 8:
        lines.append(f"  in the backward of {f.name}:")
        lines += _describe(f, f.inputs)
        f = getattr(f, "backward_of", None)
        seen += 1
    return lines


class _Monitor:
    """What ``Function.__call__`` and the engine call while the mode is on."""

    def __init__(self, check_forward: bool = True, check_backward: bool = True) -> None:
        self.check_forward = check_forward
        self.check_backward = check_backward
        self.current: Function | None = None     # the Function whose backward is running

    def after_forward(self, f: Function, tensors: tuple[Tensor, ...], ys: Any) -> None:
        f.created_at, f.op_site = _sites()
        if self.current is not None:
            f.backward_of = self.current
        if not self.check_forward:
            return
        for i, y in enumerate(ys if isinstance(ys, tuple) else (ys,)):
            kind = _bad(y)
            if kind is not None:
                phase = "backward" if self.current is not None else "forward"
                lines = [f"detect_anomaly: {f.name} produced {kind} in its output {i} "
                         f"({array_stats(y)}) in the {phase}"
                         + (f" of {self.current.name}" if self.current is not None else "")]
                lines.append(f"  {f.name}:")
                lines += _describe(f, tensors)
                lines += _chain(self.current)
                raise AnomalyError("\n".join(lines), f, phase, self.current)

    def run_backward(self, f: Function, gys: list[Tensor | None]) -> Any:
        previous, self.current = self.current, f
        try:
            return f.backward(*gys)
        finally:
            self.current = previous

    def check_gradient(self, g: Tensor, f: Function | None, i: int | None, x: Tensor) -> None:
        if not self.check_backward:
            return
        kind = _bad(g.data)
        if kind is None:
            return
        if f is None:
            message = (f"detect_anomaly: the gradient given to backward has {kind} "
                       f"({array_stats(g.data)})")
        else:
            message = "\n".join(
                [f"detect_anomaly: {f.name}.backward returned {kind} in the gradient of its "
                 f"input {i} ({array_stats(g.data)})", f"  {f.name}:"]
                + _describe(f, f.inputs))
        raise AnomalyError(message, f, "backward", f)


@contextlib.contextmanager
def detect_anomaly(check_nan: bool = True) -> Iterator[None]:
    """Check every Function output (forward, and each op a backward runs) and every
    gradient the engine passes on for NaN and Inf; raise :class:`AnomalyError` at the
    first one, naming the op, the user's file and line and its inputs. ``check_nan=False``
    only records where each Function was created (for :func:`~scratchgan.inspect.graph`).
    Nests; restores the previous mode on exit."""
    previous = function_module.monitor
    function_module.monitor = _Monitor(check_nan, check_nan)
    try:
        yield
    finally:
        function_module.monitor = previous
