"""Run every op case through the first- and second-order checks and tabulate the result.

This is what ``scratchgan gradcheck`` prints: for each op and order, the largest
absolute and relative error over a few random draws, and pass/fail.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from scratchgan.testing.catalog import OpCase, all_cases
from scratchgan.testing.gradcheck import check_backward, check_double_backward


@dataclass
class Row:
    op: str
    order: int
    max_abs_err: float
    max_rel_err: float
    ok: bool
    message: str = ""


def run_case(case: OpCase, order: int, draws: int, seed: int) -> Row:
    """Check ``case`` at ``order`` on ``draws`` random shape draws."""
    check = check_backward if order == 1 else check_double_backward
    worst_abs = worst_rel = 0.0
    for k in range(draws):
        rng = np.random.default_rng([seed, k])
        arrays, params = case.make(lambda lo, hi: int(rng.integers(lo, hi + 1)), rng)
        result = check(lambda *xs: case.call(*xs, **params), arrays, seed=seed + k,
                       raise_on_failure=False, **case.tolerances)
        worst_abs, worst_rel = max(worst_abs, result.max_abs_err), max(worst_rel, result.max_rel_err)
        if not result.ok:
            shapes = ", ".join(str(a.shape) for a in arrays)
            return Row(case.name, order, worst_abs, worst_rel, False,
                       f"inputs {shapes}, params {params}: {result.message}")
    return Row(case.name, order, worst_abs, worst_rel, True)


def run(ops: Iterable[str] | None = None, orders: Iterable[int] = (1, 2), draws: int = 3,
        seed: int = 0) -> list[Row]:
    cases = all_cases()
    names = list(cases) if ops is None else list(ops)
    unknown = [n for n in names if n not in cases]
    if unknown:
        raise KeyError(f"unknown op {', '.join(unknown)}; known ops: {', '.join(sorted(cases))}")
    return [run_case(cases[n], order, draws, seed) for n in names for order in orders]


def format_table(rows: list[Row]) -> str:
    lines = [f"{'op':<20} {'order':>5} {'max abs err':>12} {'max rel err':>12}  result",
             "-" * 60]
    for r in rows:
        lines.append(f"{r.op:<20} {r.order:>5} {r.max_abs_err:>12.2e} {r.max_rel_err:>12.2e}  "
                     f"{'pass' if r.ok else 'FAIL'}")
    failed = [r for r in rows if not r.ok]
    lines.append("-" * 60)
    lines.append(f"{len(rows) - len(failed)} passed, {len(failed)} failed")
    lines.extend(f"\nFAIL {r.op} order {r.order}: {r.message}" for r in failed)
    return "\n".join(lines)
