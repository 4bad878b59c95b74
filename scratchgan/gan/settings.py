"""The process-wide switches a run applies while it computes: the CPU kernel backend, TF32
on the GPU and the thread counts (``scratchgan.threads``). They are entered in a scope
(``using_config``, ``using_threads``) around the run and around each trainer call that
computes, and restored after: building or running a trainer never changes
``scratchgan.Config`` or the thread pools behind its user's back. One more switch is one
more field and one more ``enter_context`` in :meth:`RunSettings.applied`."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

from scratchgan.backend import CUDA, GPU_BACKEND, cpu_backends
from scratchgan.config import using_config
from scratchgan.gan.config import TrainConfig
from scratchgan.threads import using_threads


@dataclass(frozen=True)
class RunSettings:
    """cpu_kernels: the kernel backend for NumPy arrays; allow_tf32: TF32 matrix products
    on the GPU; threads: the kernels' worker threads (0: one per available core) with
    single-threaded BLAS. None leaves a switch as the process has it."""
    cpu_kernels: str | None = None
    allow_tf32: bool | None = None
    threads: int | None = None

    @classmethod
    def from_config(cls, config: TrainConfig) -> "RunSettings":
        """The switches of ``config`` (``kernels``, ``tf32``, ``threads``), the kernel backend
        checked."""
        kernels = config.kernels
        if kernels == GPU_BACKEND:
            raise ValueError(f"config key 'kernels': {GPU_BACKEND!r} is not a CPU kernel "
                             f"backend; train on the GPU with device = {CUDA.name!r} "
                             f"(--device {CUDA})")
        available = cpu_backends()
        if kernels != "default" and kernels not in available:
            raise ValueError(f"config key 'kernels': backend {kernels!r} is not available "
                             f"here; available: {', '.join(available)}")
        return cls(cpu_kernels=None if kernels == "default" else kernels,
                   allow_tf32=config.tf32, threads=config.threads)

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        """Set the switches inside the block; restore the previous values after."""
        with contextlib.ExitStack() as stack:
            if self.cpu_kernels is not None:
                stack.enter_context(using_config("cpu_kernels", self.cpu_kernels))
            if self.allow_tf32 is not None:
                stack.enter_context(using_config("allow_tf32", self.allow_tf32))
            if self.threads is not None:
                stack.enter_context(using_threads(self.threads))
            yield
