"""Reverse-mode autograd with double backward: Tensor, Function, backward, grad."""
from scratchgan.autograd.engine import backward, grad
from scratchgan.autograd.function import Function, GraphFreedError
from scratchgan.autograd.tensor import DEFAULT_DTYPE, Tensor, as_array

__all__ = ["Tensor", "Function", "GraphFreedError", "backward", "grad", "as_array", "DEFAULT_DTYPE"]
