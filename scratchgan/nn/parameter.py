"""Parameter: the Tensor a Module trains."""
from __future__ import annotations

from typing import Any

from scratchgan.autograd.tensor import Tensor, as_array


class Parameter(Tensor):
    """A Tensor that a :class:`~scratchgan.nn.Module` registers as trainable.

    ``requires_grad`` is True from the start. Python data becomes float32, arrays
    keep their floating dtype (an integer array is an error). Optimizers update
    ``.data`` in place, so a Parameter keeps its identity for its whole life.
    """

    def __init__(self, data: Any, name: str | None = None) -> None:
        array = as_array(data.data if isinstance(data, Tensor) else data)
        if array.dtype.kind != "f":
            raise TypeError(f"a Parameter holds floating-point values, got dtype {array.dtype}")
        super().__init__(array, requires_grad=True, name=name)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor"):]
