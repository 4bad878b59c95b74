"""Sequential: modules applied one after the other."""
from __future__ import annotations

from typing import Any, Iterator

from scratchgan.nn.activation import LeakyReLU, ReLU
from scratchgan.nn.module import Module
from scratchgan.nn.normalization import BatchNorm


def _fused_slope(norm: Module, act: Module | None) -> float | None:
    """The slope of ``act`` when ``norm`` and ``act`` run as one fused op: a BatchNorm
    followed by a LeakyReLU or ReLU, neither with forward hooks (nor pre-hooks on the
    activation); else None."""
    if (not isinstance(norm, BatchNorm) or act is None or act._forward_pre_hooks
            or norm._forward_hooks or act._forward_hooks):
        return None
    if isinstance(act, LeakyReLU):
        return act.negative_slope
    return 0.0 if isinstance(act, ReLU) else None


class Sequential(Module):
    """y = m_k(... m_2(m_1(x))). The modules are children named "0", "1", ...;
    ``seq[i]``, ``seq[a:b]`` (a new Sequential of the same modules), ``len(seq)``
    and ``for m in seq`` work as on a list.

    A BatchNorm followed by a LeakyReLU or ReLU runs as one fused op (``batch_norm`` with
    ``slope``): the same values and gradients, one pass over the activation instead of
    two in each direction. The modules and their parameters stay as they are."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end, named ``str(len(self))``; returns self."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential holds Modules, got {type(module).__name__}")
        setattr(self, str(len(self)), module)
        return self

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*modules[index])
        try:
            return modules[index]
        except IndexError:
            raise IndexError(f"Sequential index {index} is out of range for "
                             f"{len(modules)} modules") from None

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def forward(self, x: Any) -> Any:
        modules = list(self)
        i = 0
        while i < len(modules):
            slope = _fused_slope(modules[i], modules[i + 1] if i + 1 < len(modules) else None)
            if slope is None:
                x = modules[i](x)
                i += 1
            else:
                x = modules[i](x, slope=slope)
                i += 2
        return x
