"""Gradient checking, public: users gradcheck their own ops with these.

``check_backward`` and ``check_double_backward`` need only NumPy. ``OpTest``
(the pytest base class) needs hypothesis and is imported on first use.
"""
from scratchgan.testing.catalog import CASES, OpCase, all_cases, register
from scratchgan.testing.gradcheck import (GradcheckError, GradcheckResult, check_backward,
                                          check_double_backward)

__all__ = ["check_backward", "check_double_backward", "GradcheckError", "GradcheckResult",
           "OpCase", "CASES", "all_cases", "register", "OpTest"]


def __getattr__(name: str):
    if name == "OpTest":
        from scratchgan.testing.optest import OpTest
        return OpTest
    raise AttributeError(f"module 'scratchgan.testing' has no attribute {name!r}")
