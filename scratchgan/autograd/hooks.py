"""Removable handles for hooks.

Every ``register_*_hook`` returns a :class:`RemovableHandle`: ``handle.remove()`` takes
the hook out again (idempotent), and ``with tensor.register_hook(fn):`` removes it when
the block ends.
"""
from __future__ import annotations

from typing import Any, Callable


class RemovableHandle:
    """Takes one registered hook out of the list it was added to."""

    def __init__(self, remove: Callable[[], None]) -> None:
        self._remove: Callable[[], None] | None = remove

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        if self._remove is not None:
            self._remove()
            self._remove = None

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def add_hook(owner: Any, attr: str, hook: Callable) -> RemovableHandle:
    """Append ``hook`` to the list ``owner.<attr>`` (created on first use: until then the
    class attribute, an empty tuple, is all that the fast path reads); the handle removes
    it and drops the list when it empties, so a Tensor or Module without hooks is back to
    the fast path."""
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    hooks = owner.__dict__.get(attr)
    if hooks is None:
        hooks = []
        object.__setattr__(owner, attr, hooks)
    entry = [hook]        # a distinct object per registration: the same hook twice is fine

    def remove() -> None:
        current = owner.__dict__.get(attr)
        if current is None:
            return
        for i, e in enumerate(current):
            if e is entry:
                del current[i]
                break
        if not current:
            object.__delattr__(owner, attr)

    hooks.append(entry)
    return RemovableHandle(remove)
