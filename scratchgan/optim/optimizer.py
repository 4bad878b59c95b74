"""Optimizer: the base class, with parameter groups and a plain-data state.

An optimizer holds ``param_groups``, a list of dicts, each with the key "params"
(a list of Parameters) and the hyper-parameters ("lr", ...) that apply to them;
change ``group["lr"]`` to change the learning rate (schedulers do). ``step()``
updates every parameter whose ``.grad`` is set, in place on ``p.data``, with plain
array operations (no graph is recorded, parameters keep their identity).
Per-parameter state (moments, momentum buffers, step counts) lives in
``state[p]``, created on the parameter's first update.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from scratchgan.autograd.tensor import Tensor
from scratchgan.backend import get_array_module, to_numpy


def _plain(value: Any) -> Any:
    """A hyper-parameter or state value as plain data: arrays copied to NumPy,
    tuples as lists, NumPy scalars as Python numbers."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return np.array(to_numpy(value), copy=True)
    return value


def _hyperparameter(value: Any) -> Any:
    """A hyper-parameter read back from plain data (lists become tuples, e.g. betas)."""
    return tuple(value) if isinstance(value, list) else value


class Optimizer:
    """Base class. Subclasses call ``super().__init__(params, defaults)`` and define
    ``check_group(group)`` (validate hyper-parameters) and
    ``update(p, g, state, group)`` (one in-place update of ``p.data`` from the
    gradient array ``g``).

    Args:
        params: an iterable of Parameters (Tensors with requires_grad=True), or of
            dicts {"params": [...], hyper-parameter: value, ...} for groups with
            their own settings.
        defaults: the hyper-parameters of groups that do not set them.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        if isinstance(params, Tensor):
            raise TypeError(f"{self.name} takes an iterable of Parameters, got a single Tensor: "
                            "wrap it in a list")
        groups = list(params)
        if not groups:
            raise ValueError(f"{self.name} got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    @property
    def name(self) -> str:
        return type(self).__name__

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group: a dict with "params" and any hyper-parameters that override the
        defaults (unknown names are an error)."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{self.name}: a parameter group is a dict with the key 'params', "
                            f"got {group!r:.80}")
        unknown = sorted(set(group) - {"params"} - set(self.defaults))
        if unknown:
            raise ValueError(f"{self.name} has no hyper-parameter {', '.join(unknown)}; it has "
                             f"{', '.join(self.defaults)}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError(f"{self.name} got an empty parameter list")
        known = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{self.name}: params[{i}] is a {type(p).__name__}, "
                                "not a Parameter")
            if not p.requires_grad or not p.is_leaf:
                raise ValueError(f"{self.name}: params[{i}] (shape {p.shape}) is not a trainable "
                                 "leaf: optimizers update Tensors with requires_grad=True that "
                                 "no Function created (Parameters)")
            if id(p) in known:
                raise ValueError(f"{self.name}: params[{i}] (shape {p.shape}) appears twice")
            known.add(id(p))
        new = {**self.defaults, **group, "params": params}
        self.check_group(new)
        self.param_groups.append(new)

    def check_group(self, group: dict[str, Any]) -> None:
        """Raise ValueError on an invalid hyper-parameter of ``group``."""

    def require(self, group: dict[str, Any], key: str, ok: Callable[[Any], bool],
                rule: str) -> None:
        """A ValueError "<Optimizer>: <key> must be <rule>, got <value>" unless ok(value)."""
        value = group[key]
        try:
            fits = ok(value)
        except TypeError:
            fits = False
        if not fits:
            raise ValueError(f"{self.name}: {key} must be {rule}, got {value!r}")

    def update(self, p: Tensor, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{self.name} does not define update()")

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None."""
        for p in self._params():
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient (those with grad None are skipped), in
        place; each update bumps the parameter's ``_version``, so a backward through a graph
        built before the step raises instead of using the new values."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                if g.shape != p.shape or g.dtype != p.dtype:
                    raise ValueError(f"{self.name}: a parameter is {p.dtype}{p.shape} but its grad "
                                     f"is {g.dtype}{g.shape}")
                self.update(p, g, self.state.setdefault(p, {}), group)
                p._version += 1   # an in-place change: a graph built before it is stale

    # -- state -----------------------------------------------------------------
    def _params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self) -> dict[str, Any]:
        """Plain data only (NumPy arrays, numbers, lists, dicts), for .npz + JSON:
        ``{"state": {index: {name: array or number}}, "param_groups": [{hyper-parameters,
        "params": [index, ...]}]}``, parameters indexed in group order."""
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {index[id(p)]: {k: _plain(v) for k, v in s.items()}
                 for p, s in self.state.items()}
        groups = [{**{k: _plain(v) for k, v in g.items() if k != "params"},
                   "params": [index[id(p)] for p in g["params"]]} for g in self.param_groups]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (index keys may be strings, as after JSON).
        The groups must hold as many parameters as this optimizer's, and every state
        array must have its parameter's shape; nothing changes unless all fit."""
        groups, saved_groups = self.param_groups, state_dict["param_groups"]
        if len(saved_groups) != len(groups):
            raise ValueError(f"{self.name}.load_state_dict: the state dict has "
                             f"{len(saved_groups)} parameter groups, this optimizer {len(groups)}")
        params: dict[int, Tensor] = {}
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{self.name}.load_state_dict: parameter group {i} has "
                                 f"{len(saved['params'])} parameters in the state dict but "
                                 f"{len(group['params'])} in this optimizer")
            expected = set(group) - {"params"}
            if set(saved) - {"params"} != expected:
                raise ValueError(f"{self.name}.load_state_dict: parameter group {i} has "
                                 f"hyper-parameters {sorted(set(saved) - {'params'})}, this "
                                 f"optimizer {sorted(expected)}")
            params.update((int(k), p) for k, p in zip(saved["params"], group["params"]))
        state = {}
        for key, saved_state in state_dict["state"].items():
            p = params.get(int(key))
            if p is None:
                raise ValueError(f"{self.name}.load_state_dict: state for parameter {key}, "
                                 f"which no parameter group lists")
            state[p] = {name: self._load_value(key, name, value, p)
                        for name, value in saved_state.items()}
        updated = [{**group, **{k: _hyperparameter(v) for k, v in saved.items() if k != "params"}}
                   for group, saved in zip(groups, saved_groups)]
        for group in updated:
            self.check_group(group)
        for group, new in zip(groups, updated):
            group.update(new)
        self.state = state

    def _load_value(self, key: Any, name: str, value: Any, p: Tensor) -> Any:
        """A state array (shape-checked, in p's dtype and device) or a number (a step
        count; a 0-d array for a parameter that is not 0-d is one too, as after .npz)."""
        if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0
                                             and p.ndim != 0):
            return value.item()
        if not isinstance(value, np.ndarray):
            return value
        if value.shape != p.shape:
            raise ValueError(f"{self.name}.load_state_dict: state {name!r} of parameter {key} has "
                             f"shape {value.shape} but the parameter has shape {p.shape}")
        return get_array_module(p.data).array(value, dtype=p.dtype)

    def __repr__(self) -> str:
        lines = [f"{self.name}("]
        for i, group in enumerate(self.param_groups):
            settings = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} parameters, {settings}")
        return "\n".join(lines + [")"])
