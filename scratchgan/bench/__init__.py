"""``scratchgan bench``: the library measured side by side with PyTorch on this machine.

One command, one run, one set of conditions (threads, malloc mode) for every library:

    probe    the machine: CPU, versions, measured float32 matmul rate (the "peak" that
             every % column refers to) and the FMA-theoretical estimate from lscpu
    kernels  every DCGAN-28 layer (forward, input gradient, weight gradient) on the
             numpy and numba backends and PyTorch CPU, timed alternately in one process
    step     the full DCGAN-28 training step (``Trainer.train_step``) per backend and
             batch, next to an equivalent PyTorch step (eager NCHW and channels-last)
    wgan-gp  the WGAN-GP step (gradient penalty through double backward), ours and PyTorch's
    load     the DCGAN-28 step quiet and beside ``--background-load K`` busy processes (single-
             threaded BLAS loops), ours and PyTorch's, each one's slowdown against its quiet time
    mlp      the PacGAN MLP step (batch 100), ours and the same MLP in torch.nn
    overhead the cost of one Function call (forward, forward+backward) on tiny arrays

``--device cuda`` runs the probe, kernels, step and wgan-gp on the GPU (load, mlp and
overhead are CPU only): our ``cuda`` backend against PyTorch CUDA (TF32 off in both, device
synchronisation around every timed repeat), the steps at batches 64 and 256, "% peak"
against the named card's FP32 peak (``machine.GPU_CARDS``).

Each measurement runs in a fresh worker process (``python -m scratchgan.bench.worker``)
whose environment pins the thread pools and the glibc malloc mode before NumPy, Numba or
PyTorch load, which also gives each training-step configuration its own memory high-water
mark. PyTorch is optional: without it its columns say "skipped".

Modules: ``timing`` (the timing helper and the foreign-load monitor, shared with
``benchmarks/kernels.py``), ``flops`` (layer shapes and the analytic FLOP count),
``machine`` (the probe), ``layers`` (the kernel table), ``steps`` (the training steps, ours
and PyTorch's), ``mlp`` (the MLP step, ours and PyTorch's), ``load`` (the background-load
processes), ``overhead`` (the per-Function chains), ``worker``, ``report`` (console, markdown,
chart), ``run`` (the command).
"""
from scratchgan.bench.run import add_arguments, main, run_benchmarks

__all__ = ["add_arguments", "main", "run_benchmarks"]
