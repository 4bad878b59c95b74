"""The options of ``scratchgan bench``, apart from the measuring modules (``scratchgan.bench``)
so that building the command line imports none of them."""
from __future__ import annotations

import argparse

from scratchgan.backend import CPU, CUDA, DEVICE_NAMES

SECTIONS = ("kernels", "step", "wgan-gp", "load", "mlp", "overhead")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the options of ``scratchgan bench`` to ``p``."""
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: 3 repeats, 2 warm-up steps, no wait for a quiet machine")
    p.add_argument("--only", nargs="+", choices=SECTIONS, metavar="SECTION",
                   help="run only these sections: kernels, step, wgan-gp, load, mlp, overhead "
                        f"(default: all; with --device {CUDA}: kernels, step, wgan-gp; the "
                        "machine probe always runs)")
    p.add_argument("--device", choices=DEVICE_NAMES, default=CPU.name,
                   help=f"{CPU} (default): our CPU backends against PyTorch CPU; {CUDA}: our cuda "
                        "backend against PyTorch CUDA (needs CuPy and a GPU)")
    p.add_argument("--card", choices=("H100 SXM", "H100 PCIe", "H200"),
                   help=f"with --device {CUDA}: the card whose FP32 peak the %% columns use "
                        "(default: recognised from the device name)")
    p.add_argument("--batches", nargs="+", type=int, default=None, metavar="N",
                   help=f"batch sizes of the training steps (default 64 128 on {CPU}, "
                        f"64 256 on {CUDA})")
    p.add_argument("--backends", nargs="+", metavar="NAME",
                   help="our CPU kernel backends (default: numba numpy, those present); the "
                        "WGAN-GP step runs on the first")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    p.add_argument("--repeats", type=int, help="timed repeats per measurement "
                                               "(default 15, --quick 3)")
    p.add_argument("--threads", type=int, default=2,
                   help="threads of every library (default 2): our kernels' chunk workers "
                        "(scratchgan.threads.using_threads, BLAS on one thread inside), "
                        "torch.set_num_threads, and every worker's OMP/OPENBLAS/MKL/NUMBA "
                        "thread variables")
    p.add_argument("--malloc", choices=("tuned", "default"), default="tuned",
                   help="glibc malloc mode of every worker (default tuned: mmap threshold "
                        "64 MiB, trim threshold 1 GiB)")
    p.add_argument("--max-wait", type=float, metavar="S",
                   help="seconds to wait for a quiet machine before each measurement "
                        "(default 60, --quick 0)")
    p.add_argument("--kernel-batch", type=int, default=64, metavar="N",
                   help="batch of the kernel table (default 64)")
    p.add_argument("--peak-size", type=int, default=2048, metavar="N",
                   help="matrix size of the matmul peak probe (default 2048)")
    p.add_argument("--background-load", type=int, metavar="K",
                   help="busy processes (each a single-threaded NumPy BLAS loop) started beside "
                        "the measurements of the load section (default 1); giving it adds the "
                        "load section to --only's list")
    p.add_argument("--json", metavar="PATH", help="write every result to this JSON file")
    p.add_argument("--chart", metavar="PATH", help="write a PNG bar chart (matplotlib)")
    p.add_argument("--markdown", metavar="PATH", help="write the tables as markdown "
                                                      "(the form of BENCHMARKS.md)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --json, --markdown or --chart file that "
                        "scratchgan did not write")
