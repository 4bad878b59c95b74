"""The ``numba`` backend: the reference kernels compiled with Numba, BLAS for matrix products.

Every kernel has the reference's name, signature and semantics (``out=`` where the
reference has it, the input dtype preserved, the shared argument checks and messages);
tests compare each with ``scratchgan_kernels.reference`` on float32 and float64.

Arrays: float32 or float64, all of one dtype, else a TypeError naming the kernel and the
argument. Inputs that are only read may have any strides (a non-contiguous one is copied
to C order once, before compiled code runs); arrays that are written (``out=``, and
``param``, ``m``, ``v`` of ``adam_update``) must be C-contiguous, else a ValueError.

Layouts, per kernel:
    leaky_relu, leaky_relu_grad  one pass over the flat memory (blocks on the workers),
                                 bit-identical to the reference
    batch_norm_*                 the (pixels, C) matrix in blocks of rows on the workers,
                                 float64 moments merged in block order; the fused
                                 batch_norm_leaky_relu_* apply the activation in the same pass
    im2col, col2im               the reference's (N, C, KH, KW, OH, OW) columns, row by row
    conv2d, conv_transpose2d,    one of four layouts chosen from the shapes: channels-last
    conv2d_grad_weight           columns and large GEMMs per chunk of samples ("rows"),
                                 per-sample GEMMs on the reference columns ("cols", few
                                 channels, e.g. C = 1), tap products then sums ("taps",
                                 stride 1, few output channels, channels-last x) or direct
                                 shifted-plane loops ("direct", the same in C order); outputs
                                 channels-last; see ``scratchgan_kernels.cpu.conv``
    adam_update                  one fused in-place pass, bit-identical to the reference
    matmul                       a large 2-D product in blocks of rows on the workers

Every function is ``@njit(cache=True, nogil=True)`` (compiled once per dtype, cached next to
the source) and single-threaded: the threads are ``scratchgan_kernels.parallel``'s, which run
a kernel's chunks (whole samples, or row blocks) at once, each chunk's matrix products on one
BLAS thread, so results do not depend on the thread count. Numba's ``parallel=True`` was
measured and left out: its OpenMP threads spin after a parallel region and fought OpenBLAS's
threads for the 2 cores (a batch-norm pass 2x faster alone made "4.4 ms GEMM + that pass"
take 16 ms instead of 6.6 ms).
``clear_workspace()`` frees this thread's scratch buffers (large temporaries are reused
across calls instead of being page-faulted in on every call).
"""
from scratchgan_kernels.cpu._common import clear_workspace
from scratchgan_kernels.cpu.activation import leaky_relu, leaky_relu_grad
from scratchgan_kernels.cpu.batchnorm import (batch_norm_backward, batch_norm_forward,
                                              batch_norm_leaky_relu_backward,
                                              batch_norm_leaky_relu_forward, batch_norm_stats)
from scratchgan_kernels.cpu.conv import (col2im, conv2d, conv2d_grad_weight, conv_transpose2d,
                                         im2col)
from scratchgan_kernels.cpu.linalg import matmul
from scratchgan_kernels.cpu.optim import adam_update

KERNELS = {
    "leaky_relu": leaky_relu,
    "leaky_relu_grad": leaky_relu_grad,
    "batch_norm_stats": batch_norm_stats,
    "batch_norm_forward": batch_norm_forward,
    "batch_norm_backward": batch_norm_backward,
    "batch_norm_leaky_relu_forward": batch_norm_leaky_relu_forward,
    "batch_norm_leaky_relu_backward": batch_norm_leaky_relu_backward,
    "im2col": im2col,
    "col2im": col2im,
    "conv2d": conv2d,
    "conv_transpose2d": conv_transpose2d,
    "conv2d_grad_weight": conv2d_grad_weight,
    "adam_update": adam_update,
    "matmul": matmul,
}

__all__ = ["KERNELS", "clear_workspace", *KERNELS]
