"""The ``cuda`` backend: CUDA C kernels (``*.cu``, compiled with NVRTC through
``cupy.RawModule``) and cuBLAS GEMMs, with the reference's kernel names and signatures.

Importing this package does not import CuPy: the registry reads ``KERNELS``, and only that
read checks that CuPy imports and sees a GPU (``cupy.is_available()``), raising an
``ImportError`` that names what is missing otherwise, so ``available_backends()`` lists
``cuda`` exactly where it can run. ``loader`` (source files, kernel names, launch sizes)
is plain Python; ``ops`` holds the wrappers and imports CuPy.
"""
from __future__ import annotations

from typing import Any


def unavailable_reason() -> str | None:
    """None where the cuda kernels can run here, else why not (one sentence)."""
    try:
        import cupy
    except ImportError as e:
        return (f"CuPy is not installed ({e}); install it with pip install 'scratchgan[cuda]' "
                "(CuPy for CUDA 12)")
    except Exception as e:  # noqa: BLE001 - a broken CuPy install is reported, not raised
        return f"CuPy failed to import ({type(e).__name__}: {e})"
    try:
        available = cupy.is_available()
    except Exception:  # noqa: BLE001
        available = False
    if not available:
        return ("CuPy is installed but sees no usable CUDA GPU (cupy.is_available() is False: "
                "no GPU, or no driver that fits this CuPy)")
    return None


def set_tf32(enabled: bool) -> None:
    """Allow (or forbid, the default) TF32 tensor-core rounding in float32 cuBLAS GEMMs."""
    from scratchgan_kernels.cuda.ops import set_tf32 as _set
    _set(enabled)


def __getattr__(name: str) -> Any:
    if name == "KERNELS":
        reason = unavailable_reason()
        if reason is not None:
            raise ImportError(reason)
        from scratchgan_kernels.cuda.ops import KERNELS
        return KERNELS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
