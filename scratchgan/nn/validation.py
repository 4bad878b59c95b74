"""Argument checks shared by the layers: clear errors at construction time."""
from __future__ import annotations

import math
from numbers import Real
from typing import Any, Callable

import numpy as np


def check_positive_int(owner: str, what: str, value: Any) -> int:
    """``value`` as an int >= 1, or a ValueError naming ``owner`` and ``what``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: {what} must be a positive int, got {value!r}")
    return int(value)


def check_real(owner: str, what: str, value: Any, ok: Callable[[float], bool] = lambda v: True,
               rule: str = "a finite number") -> float:
    """``value`` as a float when it is a finite real number (not a bool, never NaN or
    infinite) for which ``ok`` holds, else a ValueError "<owner>: <what> must be <rule>,
    got <value>"."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) \
            or not ok(value):
        raise ValueError(f"{owner}: {what} must be {rule}, got {value!r}")
    return float(value)
