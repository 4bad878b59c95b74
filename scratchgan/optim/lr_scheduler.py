"""Learning-rate schedules: lr_t = base_lr * factor(t) for each parameter group.

t counts the calls of ``step()`` (0 right after construction, which already sets
lr_0); base_lr is each group's lr when the scheduler was made. Every schedule is
a closed form in t, so its whole state is (t, base_lrs): plain numbers.

    StepLR:         factor(t) = gamma ** (t // step_size)
    ExponentialLR:  factor(t) = gamma ** t
    LinearLR:       factor(t) = start + (end - start) * min(t, total_iters) / total_iters
    LambdaLR:       factor(t) = fn(t)
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from scratchgan.optim.optimizer import Optimizer


def _check_number(owner: str, what: str, value: Any, positive: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and (
        value > 0 if positive else value >= 0)
    if not ok:
        raise ValueError(f"{owner}: {what} must be a number {'> 0' if positive else '>= 0'}, "
                         f"got {value!r}")
    return float(value)


def _check_count(owner: str, what: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: {what} must be a positive int, got {value!r}")
    return value


def _check_optimizer(owner: str, optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner} schedules an Optimizer, got {type(optimizer).__name__}")
    return optimizer


class LRScheduler:
    """Base class: subclasses define ``factor(t, group_index)``."""

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = _check_optimizer(type(self).__name__, optimizer)
        self.base_lrs = [float(group["lr"]) for group in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    def factor(self, t: int, group_index: int) -> float:
        raise NotImplementedError(f"{type(self).__name__} does not define factor()")

    def _apply(self) -> None:
        self._last_lr = [base * float(self.factor(self.last_epoch, i))
                         for i, base in enumerate(self.base_lrs)]
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def step(self) -> None:
        """Advance t by one and set every group's lr to base_lr * factor(t)."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` (or the constructor) set, one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """{"last_epoch": t, "base_lrs": [...]}: plain numbers (a LambdaLR's function is
        code, not state: construct it again before loading)."""
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore t and the base lrs, and set the groups' lr for that t."""
        base_lrs = [float(lr) for lr in state["base_lrs"]]
        if len(base_lrs) != len(self.optimizer.param_groups):
            raise ValueError(f"{type(self).__name__}.load_state_dict: {len(base_lrs)} base lrs "
                             f"for {len(self.optimizer.param_groups)} parameter groups")
        last_epoch = int(state["last_epoch"])
        if last_epoch < 0:
            raise ValueError(f"{type(self).__name__}.load_state_dict: last_epoch must be "
                             f">= 0, got {last_epoch}")
        self.base_lrs, self.last_epoch = base_lrs, last_epoch
        self._apply()


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` steps."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _check_count("StepLR", "step_size", step_size)
        self.gamma = _check_number("StepLR", "gamma", gamma, positive=True)
        super().__init__(optimizer)

    def factor(self, t: int, group_index: int) -> float:
        return self.gamma ** (t // self.step_size)


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every step."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = _check_number("ExponentialLR", "gamma", gamma, positive=True)
        super().__init__(optimizer)

    def factor(self, t: int, group_index: int) -> float:
        return self.gamma ** t


class LinearLR(LRScheduler):
    """Move the factor linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` steps, then hold it: the defaults decay the lr linearly to 0,
    common in GAN training. ``total_iters`` is required."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0, end_factor: float = 0.0,
                 total_iters: int | None = None) -> None:
        if total_iters is None:
            raise TypeError("LinearLR needs total_iters, the number of steps of the ramp")
        self.start_factor = _check_number("LinearLR", "start_factor", start_factor)
        self.end_factor = _check_number("LinearLR", "end_factor", end_factor)
        self.total_iters = _check_count("LinearLR", "total_iters", total_iters)
        super().__init__(optimizer)

    def factor(self, t: int, group_index: int) -> float:
        progress = min(t, self.total_iters) / self.total_iters
        return self.start_factor + (self.end_factor - self.start_factor) * progress


class LambdaLR(LRScheduler):
    """factor(t) = fn(t): one function for every group, or a list of one per group."""

    def __init__(self, optimizer: Optimizer,
                 fn: Callable[[int], float] | Sequence[Callable[[int], float]]) -> None:
        n = len(_check_optimizer("LambdaLR", optimizer).param_groups)
        fns = list(fn) if isinstance(fn, (list, tuple)) else [fn] * n
        if len(fns) != n or not all(callable(f) for f in fns):
            raise ValueError(f"LambdaLR needs a function, or a list of {n} (one per parameter "
                             f"group), got {fn!r}")
        self.fns = fns
        super().__init__(optimizer)

    def factor(self, t: int, group_index: int) -> float:
        return self.fns[group_index](t)
