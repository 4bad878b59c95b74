"""Sequential: modules applied one after the other."""
from __future__ import annotations

from typing import Any, Iterator

from scratchgan.nn.module import Module


class Sequential(Module):
    """y = m_k(... m_2(m_1(x))). The modules are children named "0", "1", ...;
    ``seq[i]``, ``seq[a:b]`` (a new Sequential of the same modules), ``len(seq)``
    and ``for m in seq`` work as on a list."""

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
        for module in self:
            x = module(x)
        return x
