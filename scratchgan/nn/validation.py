"""Argument checks shared by the layers: clear errors at construction time."""
from __future__ import annotations

from typing import Any

import numpy as np


def check_positive_int(owner: str, what: str, value: Any) -> int:
    """``value`` as an int >= 1, or a ValueError naming ``owner`` and ``what``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: {what} must be a positive int, got {value!r}")
    return int(value)
