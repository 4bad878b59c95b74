"""What ``inspect.detect_anomaly`` costs a DCGAN training step: off, on, and without the seam.

Three variants of one ``Trainer.train_step`` (DCGAN-28 on the embedded digits, numba
kernels), timed alternately in one process (``scratchgan.bench.timing.bench_pair``), so a
load change on a shared machine hits all three alike:

* ``seam-free``: the baseline, the library as if the mode had never been added. The two
  places the mode reaches into, ``Function.__call__`` and the engine's backward loop
  (``scratchgan.autograd.engine._run``), are recompiled from their *current* source with
  every ``monitor`` branch taken out (an AST rewrite: ``if monitor is not None: ...``
  dropped, ``if monitor is None: A else: B`` -> ``A``, the ``monitor = ...`` lookup
  dropped; the script checks that no ``monitor`` is left), and installed only inside
  this variant's timing scope. Everything else is the code the other two run.
* ``off``: the default path: the seam present, the mode off (one ``is not None`` test per
  Function call and per backward step).
* ``on``: inside ``detect_anomaly()``: every Function's outputs and every gradient checked
  for NaN/Inf, every Function's creation site captured.

It prints per-step medians and minima, the ratios off/seam-free (what the seam costs
everyone) and on/off (what the mode costs when asked for), and the counts of Function
calls and backward steps per training step, so the seam's cost per call can be read off.
A difference below the run-to-run spread (the min..median gap) is noise: with few repeats
the off/seam-free ratio is 1.00 within a percent or two.

Run:  python benchmarks/anomaly_overhead.py [--batch 64] [--repeats 7] [--threads 2]
      (a quick look: --batch 16 --repeats 3, about half a minute on two cores)
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import inspect
import json
import os
import sys
import tempfile
import textwrap
from typing import Any, Callable, Iterator


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--threads", type=int, default=2, help="kernel workers and BLAS threads")
    p.add_argument("--json", help="write the results to this file")
    return p.parse_args()


class _StripSeam(ast.NodeTransformer):
    """Take the ``monitor`` branches out of a function's AST."""

    @staticmethod
    def _is_monitor_test(test: ast.expr) -> str | None:
        if (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
                and test.left.id == "monitor" and len(test.ops) == 1
                and isinstance(test.comparators[0], ast.Constant)
                and test.comparators[0].value is None):
            return "is not None" if isinstance(test.ops[0], ast.IsNot) else "is None"
        return None

    def visit_If(self, node: ast.If) -> Any:
        self.generic_visit(node)
        kind = self._is_monitor_test(node.test)
        if kind is None:
            return node
        kept = node.orelse if kind == "is not None" else node.body
        return kept or None          # a list of statements takes the If's place

    def visit_Assign(self, node: ast.Assign) -> Any:
        if any(isinstance(t, ast.Name) and t.id == "monitor" for t in node.targets):
            return None
        return node


def seam_free(fn: Callable) -> Callable:
    """``fn`` recompiled from its source without the detect_anomaly seam, in its module's
    namespace."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    tree = ast.fix_missing_locations(_StripSeam().visit(tree))
    source = ast.unparse(tree)
    assert "monitor" not in source, f"{fn.__qualname__}: a monitor branch was left"
    namespace: dict[str, Any] = {}
    exec(compile(tree, f"<seam-free {fn.__qualname__}>", "exec"), fn.__globals__, namespace)
    new = namespace[fn.__name__]
    new.__qualname__ = fn.__qualname__
    return new


@contextlib.contextmanager
def without_seam() -> Iterator[None]:
    """Inside the block, Function.__call__ and engine._run are their seam-free versions."""
    from scratchgan.autograd import engine
    from scratchgan.autograd.function import Function
    call, run = Function.__call__, engine._run
    Function.__call__, engine._run = _SEAM_FREE["call"], _SEAM_FREE["run"]
    try:
        yield
    finally:
        Function.__call__, engine._run = call, run


_SEAM_FREE: dict[str, Callable] = {}


class _Counter:
    """A monitor that only counts (the seam's interface): Function calls, backward steps."""

    def __init__(self) -> None:
        self.calls = self.backwards = 0

    def after_forward(self, f: Any, tensors: Any, ys: Any) -> None:
        self.calls += 1

    def run_backward(self, f: Any, gys: list) -> Any:
        self.backwards += 1
        return f.backward(*gys)

    def check_gradient(self, *args: Any) -> None:
        pass


def main() -> int:
    args = parse_args()
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[key] = str(args.threads)        # before NumPy loads
    from scratchgan.autograd import engine
    from scratchgan.autograd import function as function_module
    from scratchgan.bench.timing import bench_pair, foreign_load, snapshot
    from scratchgan.gan.build import build_trainer
    from scratchgan.gan.config import TrainConfig
    from scratchgan.inspect import detect_anomaly

    _SEAM_FREE["call"] = seam_free(function_module.Function.__call__)
    _SEAM_FREE["run"] = seam_free(engine._run)
    with tempfile.TemporaryDirectory() as out:
        trainer = build_trainer(TrainConfig(batch_size=args.batch, ngf=64, ndf=64, ema=0.0,
                                            threads=args.threads,
                                            log_every=10**9, steps=10**9, out=out,
                                            progress=False))
    step = trainer.train_step

    counter = _Counter()
    function_module.monitor = counter
    try:
        step()
    finally:
        function_module.monitor = None

    s0 = snapshot()
    results = bench_pair({"seam-free": step, "off": step, "on": step}, args.repeats, 0.0,
                         scopes={"seam-free": without_seam, "on": detect_anomaly})
    load = foreign_load(s0, snapshot())
    base, off, on = (results[k]["median_s"] for k in ("seam-free", "off", "on"))
    print(f"DCGAN-28 training step, batch {args.batch}, {args.threads} threads, "
          f"{args.repeats} alternating repeats; {counter.calls} Function calls and "
          f"{counter.backwards} backward steps per step; foreign load {load:.2f} cores")
    print(f"{'variant':<10} {'median ms':>10} {'min ms':>9} {'/ seam-free':>12} {'/ off':>7}")
    for name in ("seam-free", "off", "on"):
        r = results[name]
        print(f"{name:<10} {1e3 * r['median_s']:>10.1f} {1e3 * r['min_s']:>9.1f} "
              f"{r['median_s'] / base:>12.3f} {r['median_s'] / off:>7.3f}")
    per_call = (off - base) / max(counter.calls + counter.backwards, 1)
    print(f"the seam: off/seam-free = {off / base:.3f} ({1e9 * per_call:+.0f} ns per Function "
          f"call or backward step, median difference); the mode: on/off = {on / off:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"batch": args.batch, "threads": args.threads, "repeats": args.repeats,
                       "function_calls": counter.calls, "backward_steps": counter.backwards,
                       "foreign_load": load, "results": results}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
