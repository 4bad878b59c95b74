"""``scratchgan bench``: the library measured side by side with PyTorch on this machine.

One command, one run, one set of conditions (threads, malloc mode) for every library:

    probe    the machine: CPU, versions, measured float32 matmul rate (the "peak" that
             every % column refers to) and the FMA-theoretical estimate from lscpu
    kernels  every DCGAN-28 layer (forward, input gradient, weight gradient) on the
             numpy and numba backends and PyTorch CPU, timed alternately in one process
    step     the full DCGAN-28 training step (``Trainer.train_step``) per backend and
             batch, next to an equivalent PyTorch step (eager NCHW and channels-last)
    wgan-gp  the WGAN-GP step (gradient penalty through double backward), ours and PyTorch's

``--device cuda`` runs the same sections on the GPU: our ``cuda`` backend against PyTorch
CUDA (TF32 off in both, device synchronisation around every timed repeat), the steps at
batches 64 and 256, "% peak" against the named card's FP32 peak (``machine.GPU_CARDS``).

Each measurement runs in a fresh worker process (``python -m scratchgan.bench.worker``)
whose environment pins the thread pools and the glibc malloc mode before NumPy, Numba or
PyTorch load, which also gives each training-step configuration its own memory high-water
mark. PyTorch is optional: without it its columns say "skipped".

Modules: ``timing`` (the timing helper and the foreign-load monitor, shared with
``benchmarks/kernels.py``), ``flops`` (layer shapes and the analytic FLOP count),
``machine`` (the probe), ``layers`` (the kernel table), ``steps`` (the training steps, ours
and PyTorch's), ``worker``, ``report`` (console, markdown, chart), ``run`` (the command).
"""
from scratchgan.bench.run import add_arguments, main, run_benchmarks

__all__ = ["add_arguments", "main", "run_benchmarks"]
